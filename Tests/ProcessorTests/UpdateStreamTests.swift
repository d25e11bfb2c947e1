import FG
import Foundation
import Inference
import Kafka
@testable import Processor
import SwiftProtobuf
import Testing

@Suite(.serialized) struct UpdateStreamTests {
    /// A sparse update rewriting every row the test request can touch in every table, and a dense
    /// update rewriting every dense variable, both derived from fresh random parameters.
    static func updates(_ model: TestModel, step: Int32, seed: UInt64) -> (sparse: UpdateMessage, dense: UpdateMessage) {
        let fresh = TestModel.randomParameters(model.spec, seed: seed)
        var blocks: [SparseUpdate.Block] = []
        for (id, table) in fresh.tables.enumerated() {
            guard case .fixed(let rows, let dim, let values) = table else { continue }
            let keys = (0..<Int64(rows)).filter { $0 % 2 == Int64(step) % 2 || rows < 10 }
            var v: [Float] = []
            for k in keys { v += values[Int(k) * dim..<(Int(k) + 1) * dim] }
            blocks.append(SparseUpdate.Block(embeddingId: Int32(id), keys: keys, values: v))
        }
        let dense = DenseUpdate(globalStep: step, variables: fresh.dense.enumerated().map { (Int32($0.offset), $0.element) })
        return (.sparse(SparseUpdate(globalStep: step, blocks: blocks)), .dense(dense))
    }

    static func probs(_ server: ServerFixture) async throws -> [Double] {
        let reply = try await server.post(body: try PredictHTTPTests.request().serializedBytes() as [UInt8])
        let r = try PBResponse(serializedBytes: reply.body)
        return PredictHTTPTests.items.map { r.results[$0]?.scores.first ?? .nan }
    }

    static func expectedProbs(_ model: TestModel, _ parameters: ModelParameters) throws -> [Double] {
        try model.expected(PredictHTTPTests.fgRequest(), parameters: parameters).probs.map(Double.init)
    }

    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odl-proc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func fsModeAppliesCompleteFilesInStepOrder() async throws {
        let model = try TestModel()
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        func write(_ name: String, _ bytes: [UInt8], done: Bool = true) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
            if done { try Data().write(to: URL(fileURLWithPath: dir + "/" + name + ".done")) }
        }
        let u1 = Self.updates(model, step: 1, seed: 101)
        try write("dense_update_1", UpdateCodec.encode(u1.dense))
        try write("sparse_update_1", UpdateCodec.encode(u1.sparse))
        _ = try reference.apply(u1.sparse)
        _ = try reference.apply(u1.dense)
        try write("sparse_update_2", [1, 0, 0, 0, 9, 9])            // malformed
        let u3 = Self.updates(model, step: 3, seed: 303)
        try write("dense_update_3", UpdateCodec.encode(u3.dense), done: false)

        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.incrSaveDir = dir
        }
        var status = try await server.waitFor("two applied, one rejected") {
            $0.updates.messagesApplied == 2 && $0.updates.messagesRejected == 1
        }
        #expect(status.ready)
        #expect(status.updates.mode == "fs")
        #expect(status.updates.denseStep == 1 && status.updates.sparseStep == 1)
        #expect(status.updates.lastError?.contains("sparse_update_2") == true)
        #expect(status.model.checksum == String(reference.checksum(), radix: 16))
        #expect(try await Self.probs(server) == Self.expectedProbs(model, reference.snapshotParameters()))

        // dense_update_3 applies once its .done appears.
        try Data().write(to: URL(fileURLWithPath: dir + "/dense_update_3.done"))
        _ = try reference.apply(u3.dense)
        status = try await server.waitFor("dense step 3") { $0.updates.denseStep == 3 }
        #expect(status.updates.messagesApplied == 3)
        #expect(try await Self.probs(server) == Self.expectedProbs(model, reference.snapshotParameters()))
        let metrics = try await server.get("/metrics").text
        #expect(metrics.contains("odl_update_messages_total{result=\"rejected\"} 1"), "\(metrics)")
        #expect(metrics.contains("odl_update_messages_total{result=\"applied\"} 3"))
        #expect(metrics.contains("odl_model_dense_step 3"))
        await server.stop()
    }

    @Test func readyFilesOrderSparseBeforeDense() {
        let names = ["dense_update_10", "dense_update_10.done", "sparse_update_10", "sparse_update_10.done",
                     "dense_update_9", "dense_update_9.done", "sparse_update_11", "junk", "junk.done",
                     "dense_update_x", "dense_update_x.done"]
        let ready = FSUpdateStream.readyFiles(names, applied: ["dense_update_9"])
        #expect(ready.map(\.name) == ["sparse_update_10", "dense_update_10"])
    }

    @Test(arguments: BrokerKind.forTests)
    func kafkaUpdatesChangePredictionsAndReplayConverges(kind: BrokerKind) async throws {
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["updates:1"], kind: kind)
        defer { broker.stop() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        func send(_ message: UpdateMessage) throws {
            _ = try producer.sendSync(topic: "updates", partition: 0, key: Array(UpdateCodec.kafkaKey(for: message).utf8),
                                      value: UpdateCodec.encode(message))
        }
        let u1 = Self.updates(model, step: 1, seed: 11)
        try send(u1.sparse)
        try send(u1.dense)
        _ = try reference.apply(u1.sparse)
        _ = try reference.apply(u1.dense)

        func start() async throws -> ServerFixture {
            try await ServerFixture(model: try model.loaded()) {
                $0.noUpdates = false
                $0.kafkaServer = broker.bootstrap
                $0.topic = "updates"
            }
        }
        let server = try await start()
        var status = try await server.waitFor("caught up") { $0.ready }
        #expect(try Self.expectedProbs(model, model.parameters) != Self.expectedProbs(model, reference.snapshotParameters()))
        #expect(status.updates.messagesApplied == 2)
        #expect(status.updates.partitions.first?.endOffsetAtStart == 2)
        #expect(try await Self.probs(server) == Self.expectedProbs(model, reference.snapshotParameters()))

        // Live: a malformed message and a key/body mismatch between good ones.
        _ = try producer.sendSync(topic: "updates", partition: 0, key: Array("sparse_update_2".utf8), value: [1, 2, 3])
        let u2 = Self.updates(model, step: 2, seed: 22)
        _ = try producer.sendSync(topic: "updates", partition: 0, key: Array("sparse_update_2".utf8), value: UpdateCodec.encode(u2.dense))
        try send(u2.sparse)
        try send(u2.dense)
        _ = try reference.apply(u2.sparse)
        _ = try reference.apply(u2.dense)
        status = try await server.waitFor("step 2 applied") { $0.updates.messagesApplied == 4 && $0.updates.messagesRejected == 2 }
        #expect(status.updates.denseStep == 2 && status.updates.sparseStep == 2)
        #expect(status.updates.partitions.first?.nextOffset == 6)
        #expect(status.updates.partitions.first?.lag == 0)
        #expect(status.updates.freshness.count == 4)
        #expect(status.model.checksum == String(reference.checksum(), radix: 16))
        let before = try await Self.probs(server)
        #expect(before == (try Self.expectedProbs(model, reference.snapshotParameters())))
        let metrics = try await server.get("/metrics").text
        #expect(metrics.contains("odl_update_messages_total{result=\"rejected\"} 2"))
        #expect(metrics.contains("odl_update_lag_messages{topic=\"127.0.0.1"))
        await server.stop()

        // A new processor from the same base replays to the same state, bit for bit.
        let again = try await start()
        let replayed = try await again.waitFor("replayed") { $0.ready }
        #expect(replayed.updates.messagesApplied == 4)
        #expect(replayed.model.checksum == status.model.checksum)
        #expect(try await Self.probs(again) == before)
        await again.stop()
    }

    @Test(arguments: BrokerKind.forTests)
    func perPartitionStartOffsets(kind: BrokerKind) async throws {
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["multi:2"], kind: kind)
        defer { broker.stop() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        let u1 = Self.updates(model, step: 1, seed: 31)
        _ = try producer.sendSync(topic: "multi", partition: 0, key: nil, value: [9, 9, 9])          // before the start: skipped
        _ = try producer.sendSync(topic: "multi", partition: 0, key: nil, value: UpdateCodec.encode(u1.sparse))
        _ = try producer.sendSync(topic: "multi", partition: 1, key: nil, value: UpdateCodec.encode(u1.dense))
        _ = try reference.apply(u1.sparse)
        _ = try reference.apply(u1.dense)
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.kafkaServer = broker.bootstrap
            $0.topic = "multi"
            $0.startOffset = "0:1,1:0"
        }
        let status = try await server.waitFor("both partitions") { $0.ready }
        #expect(status.updates.partitions.map(\.partition) == [0, 1])
        #expect(status.updates.partitions.map(\.startOffset) == [1, 0])
        #expect(status.updates.partitions.map(\.nextOffset) == [2, 1])
        #expect(status.updates.messagesApplied == 2 && status.updates.messagesRejected == 0)
        #expect(try await Self.probs(server) == Self.expectedProbs(model, reference.snapshotParameters()))
        await server.stop()
    }

    /// Embedded: all brokers down and up (SIGUSR1/SIGUSR2, data kept). Real: the broker process is
    /// stopped and restarted on its data. Either way the update sent before the outage is applied
    /// once and the one sent after it is applied next: nothing lost, nothing applied twice.
    @Test(arguments: BrokerKind.forTests)
    func brokerOutageIsSurvived(kind: BrokerKind) async throws {
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["outage:1"], kind: kind)
        defer { broker.stop() }
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.kafkaServer = broker.bootstrap
            $0.topic = "outage"
        }
        _ = try await server.waitFor("ready") { $0.ready }
        let u1 = Self.updates(model, step: 1, seed: 9)
        let first = try Producer(bootstrap: broker.bootstrap)
        _ = try first.sendSync(topic: "outage", partition: 0, key: nil, value: UpdateCodec.encode(u1.dense))
        first.close()
        _ = try await server.waitFor("update before the outage") { $0.updates.denseStep == 1 }
        if let child = broker.child {
            kill(child.process.processIdentifier, SIGUSR1)   // all brokers down (data kept)
        } else {
            broker.real?.stop(graceful: true)
        }
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await server.get("/healthz").status == 200)
        #expect(try await server.post(body: try PredictHTTPTests.request().serializedBytes() as [UInt8]).status == 200)
        if let child = broker.child {
            kill(child.process.processIdentifier, SIGUSR2)   // back up
        } else {
            try broker.real?.start()
        }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let u2 = Self.updates(model, step: 2, seed: 10)
        _ = try producer.sendSync(topic: "outage", partition: 0, key: nil, value: UpdateCodec.encode(u2.dense))
        let status = try await server.waitFor("update after the outage", seconds: 30) { $0.updates.denseStep == 2 }
        #expect(status.updates.messagesApplied == 2)
        #expect(status.updates.partitions.first?.nextOffset == 2)
        await server.stop()
    }

    @Test func startOffsetDroppedByRetentionIsReported() async throws {
        // The embedded broker keeps about 5 MiB per partition: 8 x 1 MiB pushes offset 0 out.
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["gap:1"])
        defer { broker.stop() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let filler = [UInt8](repeating: 7, count: 1 << 20)
        for i in 0..<8 {
            _ = try producer.sendSync(topic: "gap", partition: 0, key: Array("filler_\(i)".utf8), value: filler)
        }
        let u1 = Self.updates(model, step: 1, seed: 5)
        _ = try producer.sendSync(topic: "gap", partition: 0, key: nil, value: UpdateCodec.encode(u1.dense))
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.kafkaServer = broker.bootstrap
            $0.topic = "gap"
            $0.startOffset = "0"
        }
        let status = try await server.waitFor("caught up after the gap") { $0.updates.denseStep == 1 && $0.ready }
        #expect(status.updates.startOffsetLost)
        #expect(status.updates.problems.first?.contains("no longer held by the broker") == true, "\(status.updates.problems)")
        #expect(status.readiness.contains("WARNING"))
        let low = try #require(status.updates.partitions.first)
        #expect(low.startOffset == 0 && low.nextOffset == 9)
        #expect(try await server.get("/metrics").text.contains("odl_update_gaps_total 1"))
        await server.stop()
    }

    @Test("real broker: retention deletes the start offset; the gap is in /status, /readyz and /metrics; later updates apply",
          .enabled(if: BrokerKind.forTests.contains(.real)))
    func startOffsetDeletedByRealRetention() async throws {
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["retained:1"], kind: .real, topicConfig: ["retention.ms": "1000"])
        defer { broker.stop() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let u1 = Self.updates(model, step: 1, seed: 5)
        for _ in 0..<3 { _ = try producer.sendSync(topic: "retained", partition: 0, key: nil, value: UpdateCodec.encode(u1.dense)) }
        let probe = try Consumer(ConsumerConfig(bootstrap: broker.bootstrap))
        defer { probe.close() }
        var low: Int64 = 0
        for _ in 0..<150 where low < 3 {
            low = (try? probe.watermarks(topic: "retained", partition: 0).low) ?? 0
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(low == 3, "the broker's retention should have deleted offsets 0-2")
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.kafkaServer = broker.bootstrap
            $0.topic = "retained"
            $0.startOffset = "0"
        }
        let status = try await server.waitFor("caught up after the gap") { $0.ready }
        #expect(status.updates.startOffsetLost)
        #expect(status.updates.problems.first?.contains("no longer held by the broker") == true, "\(status.updates.problems)")
        #expect(status.readiness.contains("WARNING"))
        #expect(status.updates.denseStep == nil, "no retained update was held")
        let readyz = try await server.get("/readyz")
        #expect(readyz.text.contains("WARNING"), "\(readyz.text)")
        #expect(try await server.get("/metrics").text.contains("odl_update_gaps_total 1"))
        let u2 = Self.updates(model, step: 2, seed: 6)
        _ = try producer.sendSync(topic: "retained", partition: 0, key: nil, value: UpdateCodec.encode(u2.dense))
        let after = try await server.waitFor("update after the gap") { $0.updates.denseStep == 2 }
        #expect(after.updates.messagesApplied == 1)
        await server.stop()
    }

    /// What the processor does today (partial: it does not follow a re-created topic by itself): it
    /// keeps serving its state, reports the offset reset in /status, and applies nothing of the new
    /// topic out of order; a processor started on the new topic applies its updates.
    @Test("real broker: the update topic deleted and re-created: reported, nothing applied out of order; a restart follows it",
          .enabled(if: BrokerKind.forTests.contains(.real)))
    func topicDeletedAndRecreated() async throws {
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["recreated:1"], kind: .real)
        defer { broker.stop() }
        func start(_ offset: String?) async throws -> ServerFixture {
            try await ServerFixture(model: try model.loaded()) {
                $0.noUpdates = false
                $0.kafkaServer = broker.bootstrap
                $0.topic = "recreated"
                if let offset { $0.startOffset = offset }
            }
        }
        let server = try await start(nil)
        _ = try await server.waitFor("ready") { $0.ready }
        let producer = try Producer(bootstrap: broker.bootstrap)
        for step in Int32(1)...3 {
            _ = try producer.sendSync(topic: "recreated", partition: 0, key: nil,
                                      value: UpdateCodec.encode(Self.updates(model, step: step, seed: UInt64(step)).dense))
        }
        producer.close()
        _ = try await server.waitFor("three updates") { $0.updates.denseStep == 3 }
        let admin = try Admin(bootstrap: broker.bootstrap)
        defer { admin.close() }
        try admin.deleteTopic(name: "recreated", timeout: .seconds(10))
        #expect(try admin.createTopic(name: "recreated", partitions: 1, timeout: .seconds(10)) == .created)
        // A new producer: the idempotent one's sequence numbers belong to the deleted topic (the
        // broker answers OUT_OF_ORDER_SEQUENCE_NUMBER).
        let fresh = try Producer(bootstrap: broker.bootstrap)
        defer { fresh.close() }
        _ = try fresh.sendSync(topic: "recreated", partition: 0, key: nil, value: UpdateCodec.encode(Self.updates(model, step: 4, seed: 4).dense))
        let status = try await server.waitFor("the reset reported", seconds: 30) { $0.updates.lastError?.contains("beyond the end") == true }
        #expect(status.updates.lastError?.contains("recreated partition 0: offset 3") == true, "\(status.updates.lastError ?? "")")
        #expect(status.updates.denseStep == 3 && status.updates.messagesApplied == 3)
        #expect(try await server.get("/healthz").status == 200)
        await server.stop()
        let again = try await start("0")
        let followed = try await again.waitFor("the new topic's update") { $0.updates.denseStep == 4 && $0.ready }
        #expect(followed.updates.messagesApplied == 1)
        await again.stop()
    }
}
