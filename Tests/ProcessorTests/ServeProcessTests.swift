import Export
import FG
import Foundation
import Inference
import Kafka
@testable import Processor
import SwiftProtobuf
import Testing

/// `odl serve` as a real process: export written by the Inference export writer, updates from a
/// real `odl broker`, SIGKILL + restart, SIGTERM, and the unchanged Python EAS SDK as client.
@Suite(.serialized) struct ServeProcessTests {
    /// The pipeline config whose DeepFM is `TestModel` (feature configs as the exporter derives them from fg.json).
    static let pipelineConfig = """
    model_dir: "experiments/processor-test"
    data_config {
      input_fields { input_name: "clk" input_type: INT32 default_val: "0" }
      input_fields { input_name: "user_id" input_type: STRING }
      input_fields { input_name: "item_id" input_type: STRING }
      input_fields { input_name: "category" input_type: STRING }
      input_fields { input_name: "price" input_type: DOUBLE default_val: "0.0" }
      input_fields { input_name: "tags" input_type: STRING }
      label_fields: "clk"
      input_type: KafkaInput
    }
    feature_config {
      features { input_names: "user_id" feature_type: IdFeature embedding_dim: 4 hash_bucket_size: 97 }
      features { input_names: "item_id" feature_type: IdFeature embedding_dim: 4 hash_bucket_size: 89 }
      features { input_names: "category" feature_type: IdFeature embedding_dim: 4 hash_bucket_size: 31 }
      features { input_names: "price" feature_type: RawFeature boundaries: [1, 5, 10, 50] embedding_dim: 4 }
      features { input_names: "tags" feature_type: TagFeature embedding_dim: 4 hash_bucket_size: 53 separator: "\\003" }
    }
    model_config {
      model_class: "DeepFM"
      feature_groups { group_name: "wide" feature_names: ["user_id", "item_id", "category", "price", "tags"] wide_deep: WIDE }
      feature_groups { group_name: "deep" feature_names: ["user_id", "item_id", "category", "price", "tags"] wide_deep: DEEP }
      deepfm {
        dnn { hidden_units: [8, 4] }
        l2_regularization: 1e-5
      }
      embedding_regularization: 1e-7
    }
    """

    /// Writes the export; returns the export folder (its one version folder is 1700000000).
    static func export(_ model: TestModel, kafka: KafkaInfo?, root: String) throws -> String {
        let exportDir = root + "/export"
        try ExportWriter.write(versionDir: exportDir + "/1700000000", spec: model.spec, parameters: model.parameters,
                               pipelineConfig: pipelineConfig, fgJSON: TestModel.fgJSON, kafka: kafka, globalStep: 1)
        return exportDir
    }

    final class Serve: Sendable {
        let child: ChildProcess
        let port: Int
        init(_ arguments: [String], environment: [String: String] = [:]) async throws {
            child = try ChildProcess(["serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "error"] + arguments,
                                     environment: environment)
            let url = try await child.waitForLine(prefix: "listening:")
            guard let p = url.split(separator: ":").last.flatMap({ Int($0) }) else {
                throw ProcessFailure(description: "bad listening line \(url)")
            }
            port = p
        }

        func post(_ body: [UInt8], headers: [String: String] = [:]) async throws -> HTTPReply {
            try await HTTPClient.request(port: port, path: "/api/predict/rec", headers: headers, body: body)
        }

        func status() async throws -> ProcessorStatus {
            let reply = try await HTTPClient.request(port: port, method: "GET", path: "/status")
            return try JSONDecoder().decode(ProcessorStatus.self, from: Data(reply.body))
        }

        func waitFor(_ what: String, seconds: Double = 30, _ condition: (ProcessorStatus) -> Bool) async throws -> ProcessorStatus {
            let deadline = Date().addingTimeInterval(seconds)
            while true {
                let s = try await status()
                if condition(s) { return s }
                if Date() > deadline { throw ProcessFailure(description: "timed out waiting for \(what): \(s)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        func probs(headers: [String: String] = [:]) async throws -> [Double] {
            let reply = try await post(try PredictHTTPTests.request().serializedBytes(), headers: headers)
            let r = try PBResponse(serializedBytes: reply.body)
            return PredictHTTPTests.items.map { r.results[$0]?.scores.first ?? .nan }
        }
    }

    @Test func exportIsReadBackAsTheSameModel() throws {
        let model = try TestModel()
        let root = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = try Self.export(model, kafka: nil, root: root)
        let loaded = try LoadedModel.load(path: dir, embeddingDir: nil, limits: ServeLimits())
        #expect(loaded.version == "1700000000")
        #expect(loaded.store.spec.embeddings == model.spec.embeddings)
        #expect(loaded.store.spec.denseVariables == model.spec.denseVariables)
        #expect(loaded.store.checksum() == (try ParameterStore(spec: model.spec, parameters: model.parameters)).checksum())
    }

    @Test func serveUpdatesKillRestartAndPythonClient() async throws {
        let model = try TestModel()
        let root = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let broker = try await BrokerProcess(topics: ["serve-updates:1"])
        defer { broker.stop() }
        let dir = try Self.export(model, kafka: KafkaInfo(server: broker.bootstrap, topic: "serve-updates", offset: 0), root: root)
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        func send(_ m: UpdateMessage) throws {
            _ = try producer.sendSync(topic: "serve-updates", partition: 0, key: Array(UpdateCodec.kafkaKey(for: m).utf8),
                                      value: UpdateCodec.encode(m))
            _ = try reference.apply(m)
        }
        let u1 = UpdateStreamTests.updates(model, step: 1, seed: 71)
        try send(u1.sparse)
        try send(u1.dense)

        // Kafka server and topic come from the export's kafka.txt.
        var serve = try await Serve(["--model", dir, "--token", "tok"])
        var status = try await serve.waitFor("ready") { $0.ready }
        #expect(status.updates.messagesApplied == 2)
        #expect(status.model.baseStep == 1)
        let auth = ["Authorization": "tok"]
        #expect(try await serve.probs(headers: auth) == UpdateStreamTests.expectedProbs(model, reference.snapshotParameters()))
        #expect(try await serve.post(try PredictHTTPTests.request().serializedBytes()).status == 401)

        // Live updates, a malformed one in between.
        _ = try producer.sendSync(topic: "serve-updates", partition: 0, key: Array("dense_update_2".utf8), value: [0, 0, 0, 0, 1])
        let u2 = UpdateStreamTests.updates(model, step: 2, seed: 72)
        try send(u2.sparse)
        try send(u2.dense)
        status = try await serve.waitFor("step 2") { $0.updates.denseStep == 2 && $0.updates.sparseStep == 2 }
        #expect(status.updates.messagesRejected == 1)
        let before = try await serve.probs(headers: auth)
        #expect(before == (try UpdateStreamTests.expectedProbs(model, reference.snapshotParameters())))

        // The unchanged Python EAS SDK (signed requests with the token).
        if let python = try Self.runPythonClient(port: serve.port, token: "tok") {
            let scores = Self.scores(python)
            #expect(python["item_ids"] as? [String] == PredictHTTPTests.items)
            #expect(python["outputs"] as? [String] == ["probs", "logits"])
            #expect(PredictHTTPTests.items.map { scores[$0]?.first ?? .nan } == before)
        }

        // SIGKILL, restart: base + replay answers bit-identically.
        serve.child.kill(signal: SIGKILL)
        serve = try await Serve(["--model", dir + "/1700000000", "--token", "tok"])
        let replayed = try await serve.waitFor("replayed") { $0.ready }
        #expect(replayed.updates.messagesApplied == 4 && replayed.updates.messagesRejected == 1)
        #expect(replayed.model.checksum == status.model.checksum)
        #expect(try await serve.probs(headers: auth) == before)

        // SIGTERM: graceful exit 0.
        serve.child.kill(signal: SIGTERM)
        #expect(serve.child.process.terminationStatus == 0)
    }

    /// Replicas: two `odl serve` on the same export and topic reach the same checksum and answer
    /// bit-identically while updates stream; a third started later catches up to the same state.
    @Test(arguments: BrokerKind.forTests)
    func replicasConvergeBitIdentically(kind: BrokerKind) async throws {
        let model = try TestModel()
        let root = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let broker = try await BrokerProcess(topics: ["replicas:1"], kind: kind)
        defer { broker.stop() }
        let dir = try Self.export(model, kafka: KafkaInfo(server: broker.bootstrap, topic: "replicas", offset: 0), root: root)
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        func send(step: Int32) throws {
            let u = UpdateStreamTests.updates(model, step: step, seed: UInt64(100 + step))
            for m in [u.sparse, u.dense] {
                _ = try producer.sendSync(topic: "replicas", partition: 0, key: Array(UpdateCodec.kafkaKey(for: m).utf8),
                                          value: UpdateCodec.encode(m))
                _ = try reference.apply(m)
            }
        }
        try send(step: 1)
        let a = try await Serve(["--model", dir])
        let b = try await Serve(["--model", dir])
        defer {
            a.child.kill(signal: SIGKILL)
            b.child.kill(signal: SIGKILL)
        }
        for step in Int32(2)...6 { try send(step: step) }
        let expected = String(reference.checksum(), radix: 16)
        let sa = try await a.waitFor("replica a at step 6") { $0.updates.denseStep == 6 && $0.ready }
        let sb = try await b.waitFor("replica b at step 6") { $0.updates.denseStep == 6 && $0.ready }
        #expect(sa.model.checksum == expected && sb.model.checksum == expected)
        let pa = try await a.probs(), pb = try await b.probs()
        #expect(pa == pb)
        #expect(pa == (try UpdateStreamTests.expectedProbs(model, reference.snapshotParameters())))
        let c = try await Serve(["--model", dir])
        defer { c.child.kill(signal: SIGKILL) }
        let sc = try await c.waitFor("replica c caught up") { $0.ready && $0.updates.denseStep == 6 }
        #expect(sc.model.checksum == expected)
        #expect(sc.updates.messagesApplied == 12)
        #expect(try await c.probs() == pa)
    }

    @Test func noUpdatesServesTheBaseWithoutABroker() async throws {
        let model = try TestModel()
        let root = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = try Self.export(model, kafka: KafkaInfo(server: "127.0.0.1:1", topic: "nowhere"), root: root)
        let serve = try await Serve(["--model", dir, "--no-updates", "--name", "rec"], environment: ["ODL_TOKEN": ""])
        let status = try await serve.waitFor("ready") { $0.ready }
        #expect(status.updates.mode == "none")
        #expect(try await serve.probs() == UpdateStreamTests.expectedProbs(model, model.parameters))
        if let python = try Self.runPythonClient(port: serve.port, token: nil) {
            let scores = Self.scores(python)
            #expect(PredictHTTPTests.items.map { scores[$0]?.first ?? .nan } == (try UpdateStreamTests.expectedProbs(model, model.parameters)))
        }
        serve.child.kill(signal: SIGTERM)
    }

    @Test func badExportFailsClearly() throws {
        func run(_ args: [String]) throws -> (status: Int32, stderr: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try ChildProcess.odlBinary())
            p.arguments = args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let missing = try run(["serve", "--model", "/nonexistent/export", "--port", "0"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/export"), "\(missing.stderr)")
        let badOutputs = try run(["serve", "--model", "/tmp", "--outputs", "probs,nope"])
        #expect(badOutputs.status != 0)
        #expect(badOutputs.stderr.contains("nope"), "\(badOutputs.stderr)")
    }

    /// item id -> scores, parsed from the script's exact decimal strings.
    static func scores(_ json: [String: Any]) -> [String: [Double]] {
        let raw = json["scores"] as? [String: [String]] ?? [:]
        return raw.mapValues { $0.compactMap(Double.init) }
    }

    /// Runs Tests/Fixtures/Processor/eas_client_check.py; nil (with a printed reason) when the SDK is missing.
    static func runPythonClient(port: Int, token: String?) throws -> [String: Any]? {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        let script = url.appendingPathComponent("Fixtures/Processor/eas_client_check.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "127.0.0.1:\(port)", "rec"] + (token.map { [$0] } ?? [])
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 3 {
            print("SKIPPED Python EAS client check: \(errors) (pip install eas-prediction)")
            return nil
        }
        guard process.terminationStatus == 0,
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ProcessFailure(description: "eas_client_check.py failed (\(process.terminationStatus)): \(errors)")
        }
        return json
    }
}
