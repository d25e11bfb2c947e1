import Config
import DataHub
import Foundation

/// `odl demo --input datahub`: today's sample lines go to a BLOB topic on `odl datahub` (the
/// same CSV lines as the Kafka sample topic carries) and the online trainer reads them there.
struct DataHubSampleSink: Sendable {
    static let accessId = "demo-ak"
    static let accessKey = "demo-secret"
    let client: DataHubClient
    let project: String
    let topic: String

    init(endpoint: String, project: String, topic: String) {
        client = DataHubClient(endpoint: endpoint, accessId: Self.accessId, accessKey: Self.accessKey)
        self.project = project
        self.topic = topic
    }

    /// The online config's `datahub_train_input`.
    var input: EasyRec_DatahubServer {
        var d = EasyRec_DatahubServer()
        d.akID = Self.accessId
        d.akSecret = Self.accessKey
        d.region = client.endpoint
        d.project = project
        d.topic = topic
        return d
    }

    /// Writes `lines` (sample ids from `firstIndex`, in the `key` attribute) off the cooperative pool.
    func put(_ lines: [String], firstIndex: Int) async throws {
        let records = lines.enumerated().map { i, line in
            DataHubRecord(data: .blob(Array(line.utf8)), shardId: "0", attributes: ["key": "s\(firstIndex + i)"])
        }
        let client = self.client, project = self.project, topic = self.topic
        let failed = try await Task.detached { try client.putRecords(project: project, topic: topic, records) }.value
        if let f = failed.first {
            throw DemoError("datahub refused \(failed.count) of \(records.count) samples (first: record \(f.index), \(f.code))")
        }
    }
}
