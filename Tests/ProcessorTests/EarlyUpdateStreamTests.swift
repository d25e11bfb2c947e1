import Export
import Foundation
import Inference
import Kafka
import Logging
@testable import Processor
import Synchronization
import Testing

/// The update stream started before the model is loaded (EarlyUpdateStream + ApplierLatch), and
/// the prefault of file-mapped tables: both must leave the parameters exactly as a sequential
/// replay after the load does.
@Suite(.serialized) struct EarlyUpdateStreamTests {
    static var logger: Logger {
        var l = Logger(label: "test.early")
        l.logLevel = .warning
        return l
    }

    /// `count` messages: sparse and dense updates of steps `firstStep...`, in send order.
    static func messages(_ model: TestModel, firstStep: Int32, count: Int) -> [UpdateMessage] {
        var out: [UpdateMessage] = []
        var step = firstStep
        while out.count < count {
            let u = UpdateStreamTests.updates(model, step: step, seed: UInt64(1000 + step))
            out.append(u.sparse)
            if out.count < count { out.append(u.dense) }
            step += 1
        }
        return out
    }

    static func send(_ producer: Producer, topic: String, _ messages: [UpdateMessage]) throws {
        for m in messages {
            _ = try producer.sendSync(topic: topic, partition: 0, key: Array(UpdateCodec.kafkaKey(for: m).utf8),
                                      value: UpdateCodec.encode(m))
        }
    }

    static func waitUntil(_ what: String, seconds: Double = 30, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { throw ProcessFailure(description: "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Updates produced before the stream starts and while it holds (latch closed) are applied
    /// once each, in order, after the latch opens, followed by live ones; the parameters are
    /// bit-identical to applying every message in order to the base.
    @Test(arguments: BrokerKind.forTests)
    func heldUpdatesApplyOnceInOrderAfterTheLatchOpens(kind: BrokerKind) async throws {
        let model = try TestModel()
        let broker = try await BrokerProcess(topics: ["early:1"], kind: kind)
        defer { broker.stop() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let all = Self.messages(model, firstStep: 1, count: 12)
        let before = Array(all[0..<4]), during = Array(all[4..<8]), after = Array(all[8...])
        try Self.send(producer, topic: "early", before)

        let loaded = try model.loaded()
        var options = ServeOptions(model: loaded.versionDir)
        options.kafkaServer = broker.bootstrap
        options.topic = "early"
        let early = try EarlyUpdateStream(options: options, manifest: loaded.manifest, logger: Self.logger)
        let kafka = try #require(early.kafka)
        let service = try #require(early.service)
        early.start()
        // "Loading": nothing applies, the stream holds what it fetched.
        try await Self.waitUntil("the first messages held") { kafka.earlyHeld.withLock { $0.messages } >= before.count }
        try Self.send(producer, topic: "early", during)
        try await Self.waitUntil("the messages sent while loading held") { kafka.earlyHeld.withLock { $0.messages } >= all.count - after.count }
        #expect(early.state.snapshot.messagesApplied == 0)
        #expect(loaded.store.checksum() == (try ParameterStore(spec: model.spec, parameters: model.parameters)).checksum())

        // Loaded: open the latch, then more messages arrive live.
        let applier = UpdateApplier(store: loaded.store, options: UpdateOptions(), state: early.state, logger: Self.logger)
        early.latch.open(applier)
        try Self.send(producer, topic: "early", after)
        try await Self.waitUntil("every message applied") { early.state.snapshot.messagesApplied >= all.count }
        try await Task.sleep(for: .milliseconds(200))   // nothing is applied twice
        await service.shutdown()

        let snap = early.state.snapshot
        #expect(snap.messagesApplied == all.count)
        #expect(snap.messagesRejected == 0)
        #expect(snap.partitions.first?.nextOffset == Int64(all.count))
        #expect(snap.problems.isEmpty)
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        for m in all { _ = try reference.apply(m) }
        #expect(loaded.store.checksum() == reference.checksum())
        #expect(loaded.store.snapshotParameters() == reference.snapshotParameters())
    }

    /// Through the server's own start-up: the stream starts when the export's manifest is read,
    /// the tables load from files (mapped, so they are prefaulted alongside the applier), and the
    /// result equals a sequential replay bit for bit.
    @Test(arguments: BrokerKind.forTests)
    func serverStartedFromAnExportReplaysBitIdentically(kind: BrokerKind) async throws {
        let model = try TestModel()
        let root = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let broker = try await BrokerProcess(topics: ["early-export:1"], kind: kind)
        defer { broker.stop() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        defer { producer.close() }
        let all = Self.messages(model, firstStep: 2, count: 10)
        try Self.send(producer, topic: "early-export", all)
        let dir = try ServeProcessTests.export(model, kafka: KafkaInfo(server: broker.bootstrap, topic: "early-export", offset: 0), root: root)

        var options = ServeOptions(model: dir)
        options.host = "127.0.0.1"
        options.port = 0
        let server = try ProcessorServer(options: options, logger: Self.logger)
        #expect(TablePrefault.decision(store: server.model.store, source: server.source, memoryBudget: nil).run)
        try await Self.waitUntil("caught up") { server.state.snapshot.caughtUp }
        await server.stream?.shutdown()
        #expect(server.state.snapshot.messagesApplied == all.count)
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        for m in all { _ = try reference.apply(m) }
        #expect(server.model.store.checksum() == reference.checksum())
        #expect(server.model.store.snapshotParameters() == reference.snapshotParameters())
    }

    /// Prefaulting mapped tables (in small steps, on another thread) while updates apply changes
    /// no value; it covers every mapped byte. Both ways: madvise, and the touch fallback under
    /// the write lock.
    @Test(arguments: [true, false])
    func prefaultAlongsideTheApplierChangesNothing(populateWrite: Bool) throws {
        let model = try TestModel()
        let root = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = try ServeProcessTests.export(model, kafka: nil, root: root)
        let loaded = try LoadedModel.load(path: dir, embeddingDir: nil, limits: ServeLimits())
        let store = loaded.store
        #expect(store.mappedWritableTableBytes > 0)
        let all = Self.messages(model, firstStep: 1, count: 40)
        let report = Mutex<PrefaultReport?>(nil)
        let thread = Thread {
            let r = store.prefaultMappedTables(stepBytes: 4096, populateWrite: populateWrite)
            report.withLock { $0 = r }
        }
        thread.start()
        for m in all { _ = try store.apply(m) }
        while report.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.01) }
        let r = try #require(report.withLock { $0 })
        #expect(r.failure == nil)
        #expect(r.method == (populateWrite ? "populate-write" : "touch"))
        #expect(r.bytes == store.mappedWritableTableBytes)
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        for m in all { _ = try reference.apply(m) }
        #expect(store.checksum() == reference.checksum())
        #expect(store.snapshotParameters() == reference.snapshotParameters())
    }
}
