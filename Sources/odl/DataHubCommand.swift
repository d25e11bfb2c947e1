import ArgumentParser
import DataHub
import DataHubServer
import Foundation
import Logging

/// `odl datahub`: runs the embedded DataHub-protocol endpoint until SIGTERM/SIGINT.
struct DataHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datahub",
        abstract: "Run an embedded DataHub-protocol endpoint (REST, JSON protocol) on 127.0.0.1.",
        discussion: """
            Prints "endpoint: http://HOST:PORT" once ready (and writes the URL to --endpoint-file), then \
            serves until SIGTERM or SIGINT and exits 0. Every request must be signed with --access-id / \
            --access-key as the DataHub SDKs sign. Records live in memory; with --journal they are also \
            appended to a file that a restart replays. For local runs, the demo and tests.
            """
    )

    @Option(name: .long, help: "Address to listen on (loopback).")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port (0 picks a free one).")
    var port: Int = 0

    @Option(name: .long, help: "The accepted AccessKeyId.")
    var accessId: String = ProcessInfo.processInfo.environment["ODL_DATAHUB_ID"] ?? "odl"

    @Option(name: .long, help: "The accepted AccessKeySecret (or ODL_DATAHUB_KEY).")
    var accessKey: String = ProcessInfo.processInfo.environment["ODL_DATAHUB_KEY"] ?? "odl-secret"

    @Option(name: .long, help: "BLOB topic to pre-create, as PROJECT/TOPIC:SHARDS (repeatable; the project is created too).")
    var topic: [String] = []

    @Option(name: .long, help: "TUPLE topic to pre-create, as PROJECT/TOPIC:SHARDS:FIELD,FIELD,... (string fields; repeatable).")
    var tupleTopic: [String] = []

    @Option(name: .long, help: "Append every change to this file and replay it at start (keeps records across restarts).")
    var journal: String?

    @Option(name: .long, help: "Records kept per shard before the oldest expire (0: all).")
    var maxRecordsPerShard: Int = 0

    @Option(name: .long, help: "Write the endpoint URL to this file once ready (atomic).")
    var endpointFile: String?

    struct TopicSpec { var project: String; var topic: String; var shards: Int; var fields: [String]? }

    static func parseTopic(_ spec: String, tuple: Bool) throws -> TopicSpec {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let names = parts.first?.split(separator: "/").map(String.init) ?? []
        guard parts.count == (tuple ? 3 : 2), names.count == 2, let shards = Int(parts[1]), shards > 0 else {
            throw ValidationError("--\(tuple ? "tuple-topic" : "topic") '\(spec)': expected PROJECT/TOPIC:SHARDS\(tuple ? ":FIELD,..." : "")")
        }
        let fields = tuple ? parts[2].split(separator: ",").map(String.init) : nil
        if let fields, fields.isEmpty { throw ValidationError("--tuple-topic '\(spec)': no fields") }
        return TopicSpec(project: names[0], topic: names[1], shards: shards, fields: fields)
    }

    func validate() throws {
        for t in topic { _ = try Self.parseTopic(t, tuple: false) }
        for t in tupleTopic { _ = try Self.parseTopic(t, tuple: true) }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let logger = Logger(label: "odl.datahub")
        let store: DataHubStore
        do {
            store = try DataHubStore(journalPath: journal, maxRecordsPerShard: maxRecordsPerShard)
        } catch {
            throw ValidationError("datahub: \(error.message)")
        }
        let specs = try topic.map { try Self.parseTopic($0, tuple: false) } + tupleTopic.map { try Self.parseTopic($0, tuple: true) }
        for t in specs {
            if (try? store.project(t.project)) == nil {
                do { try store.createProject(t.project, comment: "") } catch { throw ValidationError("datahub: \(error.message)") }
            }
            if store.hasTopic(project: t.project, topic: t.topic) { continue }   // replayed from the journal
            let schema = t.fields.map { RecordSchema(fields: $0.map { SchemaField(name: $0, type: "string") }) }
            do {
                try store.createTopic(project: t.project, topic: t.topic, shardCount: t.shards, lifecycle: 1,
                                      type: schema == nil ? .blob : .tuple, schema: schema, comment: "")
            } catch { throw ValidationError("datahub: \(error.message)") }
        }
        let responder = DataHubResponder(store: store, accessId: accessId, accessKey: accessKey)
        let signals = SignalStream([SIGTERM, SIGINT])
        let host = self.host, port = self.port, endpointFile = self.endpointFile
        let server = Task {
            try await DataHubEndpoint.run(responder: responder, host: host, port: port, logger: logger) { bound in
                let url = "http://\(host):\(bound)"
                if let endpointFile { try? Data((url + "\n").utf8).write(to: URL(fileURLWithPath: endpointFile), options: .atomic) }
                print("endpoint: \(url)")
                fflush(nil)
            }
        }
        for await sig in signals.stream {
            print("datahub: stopping (signal \(sig)); \(responder.counters.refused) of \(responder.counters.requests) requests refused")
            fflush(nil)
            server.cancel()
            break
        }
        _ = await server.result
    }
}
