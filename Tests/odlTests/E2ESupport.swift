import Config
import Foundation
import Kafka
import Testing
@testable import Demo

/// Errors of the end-to-end harness, naming the step that failed.
struct E2EError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Paths of the package and its built `odl` binary (located from this file).
enum E2EPaths {
    static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// `<package root>/.build/debug/odl`; a clear failure when it has not been built.
    static func binary() throws -> String {
        let path = packageRoot + "/.build/debug/odl"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw E2EError("\(path) is missing: build it first (`swift build --product odl`)")
        }
        return path
    }
}

/// The offline base shared by every end-to-end test: a small world, the demo model trained on
/// yesterday and exported. Built once per test process.
struct E2EBase: Sendable {
    let root: String
    let fgPath: String
    let configPath: String
    let baseDir: String
    let exportDir: String
    let today: [TodayRequest]

    /// Today's samples, cut to a whole number of online batches (32) so nothing waits in a partial batch.
    var todaySamples: [String] {
        let all = today.flatMap(\.samples)
        return Array(all.prefix(all.count / 32 * 32))
    }

    /// A fixed request set for probability comparisons.
    var requests: [TodayRequest] { Array(today.prefix(40)) }

    static func shared() async throws -> E2EBase { try await BaseCache.shared.get() }

    fileprivate static func build() async throws -> E2EBase {
        let fm = FileManager.default
        let binary = try E2EPaths.binary()
        let root = NSTemporaryDirectory() + "odl-e2e-\(UUID().uuidString.prefix(8))"
        let model = E2EPaths.packageRoot + "/models/demo"
        try fm.createDirectory(atPath: root + "/world", withIntermediateDirectories: true)
        let fgPath = model + "/fg.json", configPath = model + "/pipeline.config"
        var wc = WorldConfig()
        wc.users = 300
        wc.yesterdayPages = 400
        wc.todayPages = 400
        let world = try WorldGenerator.generate(wc)
        let renderer = try FGSampleRenderer(fgJSONPath: fgPath, separator: ",")
        let rendered = try world.render(with: renderer)
        try WorldFiles.write(world: world, rendered: rendered, to: root + "/world")
        let baseDir = root + "/base", exportDir = root + "/export"
        var base = try PipelineConfig.load(path: configPath)
        base.proto.trainInputPath = root + "/world/" + WorldFiles.yesterdayFile
        base.proto.dataConfig.inputType = .csvinput
        base.proto.dataConfig.batchSize = 128
        base.proto.trainConfig.clearIncrSaveConfig()
        base.proto.fgJsonPath = fgPath
        base.proto.modelDir = baseDir
        try base.validate()
        try base.write(path: root + "/base.config")
        let train = try E2EChild(name: "train-base", binary: binary, log: root + "/train-base.log",
                                 ["train", "--config", root + "/base.config", "--model-dir", baseDir])
        try await train.expectSuccess(timeout: 300)
        // Export with the base config (the export format does not depend on the update topic; each
        // test's processor is pointed at its own broker with --kafka-server/--topic).
        let export = try E2EChild(name: "export-base", binary: binary, log: root + "/export-base.log",
                                  ["export", "--config", root + "/base.config", "--checkpoint-path", baseDir, "--export-dir", exportDir])
        try await export.expectSuccess(timeout: 120)
        return E2EBase(root: root, fgPath: fgPath, configPath: configPath, baseDir: baseDir, exportDir: exportDir,
                       today: rendered.today)
    }
}

private actor BaseCache {
    static let shared = BaseCache()
    private var task: Task<E2EBase, any Error>?

    func get() async throws -> E2EBase {
        if let task { return try await task.value }
        let t = Task { try await E2EBase.build() }
        task = t
        return try await t.value
    }
}

/// A child `odl` process (wrapping the demo's ChildProcess) with its log in the test's directory.
final class E2EChild: Sendable {
    let child: ChildProcess

    init(name: String, binary: String, log: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        child = try ChildProcess(name: name, executable: binary, arguments: arguments, logPath: log, environment: environment)
    }

    var pid: Int32 { child.pid }

    func expectSuccess(timeout: Double) async throws {
        guard let s = await child.waitForExit(timeout: timeout) else {
            await child.stop(grace: 2)
            throw E2EError("\(child.name) did not finish within \(Int(timeout)) s:\n\(child.tail())")
        }
        guard s.code == 0 && !s.signaled else {
            throw E2EError("\(child.name) exited with \(s.code) (signaled \(s.signaled)):\n\(child.tail())")
        }
    }

    deinit { if child.isRunning { child.signal(SIGKILL) } }
}

/// One test's world: its directory, its broker, its online config; helpers to start processes.
final class E2EScenario: Sendable {
    let base: E2EBase
    let dir: String
    let binary: String
    /// The `odl broker` child (`kind` .embedded), or nil on the real broker.
    let broker: E2EChild?
    let real: RealBroker?
    let bootstrap: String
    let onlineConfig: String
    let onlineDir: String
    let sampleTopic = "e2e_samples"
    let updateTopic = "e2e_updates"

    init(_ name: String, kind: BrokerKind = .embedded, checkpointSteps: UInt32? = nil) async throws {
        base = try await E2EBase.shared()
        binary = try E2EPaths.binary()
        dir = base.root + "/" + name + (kind == .real ? "-real" : "")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try BrokerKind.checkSelection()
        if kind == .real {
            let r = try RealBroker(topicSpecs: ["\(sampleTopic):1", "\(updateTopic):1"])
            real = r
            broker = nil
            bootstrap = r.bootstrap
        } else {
            let b = try E2EChild(name: "broker", binary: binary, log: dir + "/broker.log",
                                 ["broker", "--topic", "\(sampleTopic):1", "--topic", "\(updateTopic):1"])
            real = nil
            broker = b
            bootstrap = try await b.child.waitForLine(prefix: "bootstrap:", timeout: 30)
        }
        onlineDir = dir + "/online"
        var online = try PipelineConfig.load(path: base.configPath)
        online.proto.kafkaTrainInput.server = bootstrap
        online.proto.kafkaTrainInput.topic = sampleTopic
        online.proto.trainConfig.incrSaveConfig.kafka.server = bootstrap
        online.proto.trainConfig.incrSaveConfig.kafka.topic = updateTopic
        online.proto.trainConfig.fineTuneCheckpoint = base.baseDir
        online.proto.fgJsonPath = base.fgPath
        online.proto.modelDir = onlineDir
        // The scenarios cut their streams into whole batches of 32 and expect updates every 10
        // steps, whatever the demo model's own online batch and cadence are.
        online.proto.dataConfig.batchSize = 32
        online.proto.trainConfig.incrSaveConfig.denseSaveSteps = 10
        online.proto.trainConfig.incrSaveConfig.sparseSaveSteps = 10
        if let checkpointSteps { online.proto.trainConfig.saveCheckpointsSteps = checkpointSteps }
        try online.validate()
        onlineConfig = dir + "/online.config"
        try online.write(path: onlineConfig)
    }

    func start(_ name: String, _ args: [String]) throws -> E2EChild {
        try E2EChild(name: name, binary: binary, log: "\(dir)/\(name).log", args)
    }

    /// A live processor on the base export, consuming this scenario's update topic from the start.
    func startLive(_ name: String) async throws -> (E2EChild, ProcessorClient) {
        let p = try start(name, ["serve", "--model", base.exportDir, "--host", "127.0.0.1", "--port", "0",
                                 "--kafka-server", bootstrap, "--topic", updateTopic, "--start-offset", "0"])
        let url = try await p.child.waitForLine(prefix: "listening:", timeout: 120)
        let client = ProcessorClient(name: name, baseURL: url)
        try await client.waitReady(timeout: 120)
        return (p, client)
    }

    /// A static processor (no updates) on an export folder.
    func startStatic(_ name: String, model: String) async throws -> (E2EChild, ProcessorClient) {
        let p = try start(name, ["serve", "--model", model, "--host", "127.0.0.1", "--port", "0", "--no-updates"])
        let url = try await p.child.waitForLine(prefix: "listening:", timeout: 120)
        let client = ProcessorClient(name: name, baseURL: url)
        try await client.waitReady(timeout: 120)
        return (p, client)
    }

    func startTrainer(_ name: String = "train-online", sampleLog: String? = nil) throws -> E2EChild {
        var args = ["train", "--config", onlineConfig, "--model-dir", onlineDir, "--stop-check-secs", "0.2"]
        if let sampleLog { args += ["--sample-log", sampleLog] }
        return try start(name, args)
    }

    /// Produces `lines` to the sample topic, keys `s<first+i>`, pausing `pause` seconds every `chunk` lines.
    func produce(_ lines: ArraySlice<String>, chunk: Int = 320, pause: Double = 0) async throws {
        let producer = try Producer(bootstrap: bootstrap)
        defer { producer.close() }
        var i = lines.startIndex
        for l in lines {
            _ = try producer.sendSync(topic: sampleTopic, partition: 0, key: Array("s\(i)".utf8), value: Array(l.utf8))
            i += 1
            if pause > 0 && (i - lines.startIndex) % chunk == 0 { try await Task.sleep(for: .milliseconds(Int(pause * 1000))) }
        }
    }

    /// Produces one raw message to the update topic.
    func produceUpdate(key: String, value: [UInt8]) throws {
        let producer = try Producer(bootstrap: bootstrap)
        defer { producer.close() }
        _ = try producer.sendSync(topic: updateTopic, partition: 0, key: Array(key.utf8), value: value)
    }

    /// High watermark of partition 0 of `topic`.
    func endOffset(_ topic: String) throws -> Int64 {
        let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
        defer { consumer.close() }
        return try consumer.watermarks(topic: topic, partition: 0).high
    }

    /// Waits until the sample log records offset `last` (the trainer trained every produced sample).
    func waitTrained(log: String, last: Int64, trainer: E2EChild, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if sampleLogEntries(log).contains(where: { $0.offset == last }) { return }
            guard trainer.child.isRunning else { throw E2EError("trainer exited early:\n\(trainer.child.tail())") }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw E2EError("trainer did not train offset \(last) within \(Int(timeout)) s:\n\(trainer.child.tail())")
    }

    /// OSS_STOP_SIGNAL, then a clean exit (final updates + checkpoint).
    func stopTrainer(_ trainer: E2EChild) async throws {
        _ = FileManager.default.createFile(atPath: onlineDir + "/OSS_STOP_SIGNAL", contents: nil)
        try await trainer.expectSuccess(timeout: 90)
    }

    /// Waits (up to `timeout` s) until the processor applied at least `count` update messages;
    /// the caller checks the count afterwards.
    func waitSomeApplied(_ client: ProcessorClient, atLeast count: Int, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let st = try? await client.status(), (StatusSnapshot(json: st).messagesApplied ?? 0) >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until the processor consumed the whole update topic; returns its final status and the topic's size.
    func waitApplied(_ client: ProcessorClient, timeout: Double) async throws -> (StatusSnapshot, Int64) {
        let deadline = Date().addingTimeInterval(timeout)
        var last: StatusSnapshot?
        var high: Int64 = -1
        while Date() < deadline {
            high = (try? endOffset(updateTopic)) ?? high
            if let json = try? await client.status() {
                let s = StatusSnapshot(json: json)
                last = s
                let handled = (s.messagesApplied ?? 0) + (s.messagesRejected ?? 0)
                if high > 0, let next = s.nextOffset, next >= high, Int64(handled) >= high, await client.readyStatus() == 200 {
                    return (s, high)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw E2EError("\(client.name) did not apply the \(high) update messages within \(Int(timeout)) s; last status: "
                       + "applied \(last?.messagesApplied ?? -1), rejected \(last?.messagesRejected ?? -1), next offset \(last?.nextOffset ?? -1)")
    }

    /// Exports the trainer's final checkpoint and serves it without updates.
    func serveFinalExport() async throws -> (E2EChild, ProcessorClient) {
        let exportDir = dir + "/final-export"
        let export = try start("export-final", ["export", "--config", onlineConfig, "--checkpoint-path", onlineDir,
                                                "--export-dir", exportDir])
        try await export.expectSuccess(timeout: 120)
        return try await startStatic("serve-final", model: exportDir)
    }

    /// Serves a fresh export of the final checkpoint and expects the live processor's probs to
    /// equal it within 1e-6 on the base request set; returns the fresh server to stop.
    func expectLiveEqualsFinalExport(_ liveClient: ProcessorClient) async throws -> E2EChild {
        let (fresh, freshClient) = try await serveFinalExport()
        let lp = try await scoreAll(liveClient, base.requests)
        let fp = try await scoreAll(freshClient, base.requests)
        #expect(!lp.isEmpty && lp.count == fp.count)
        #expect(maxAbsDiff(lp, fp) <= 1e-6, "max |diff| \(maxAbsDiff(lp, fp))")
        return fresh
    }

    /// Stops the children and the broker, then removes the scenario's directory.
    func stopAll(_ children: [E2EChild]) async {
        for c in children { await c.child.stop(grace: 5) }
        await broker?.child.stop(grace: 5)
        real?.close()
        // Passed scenarios leave nothing behind; a failing one keeps its logs (it never gets here).
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Probabilities of every request in order, concatenated.
func scoreAll(_ client: ProcessorClient, _ requests: [TodayRequest]) async throws -> [Double] {
    var out: [Double] = []
    for r in requests { out += try await client.predict(body: r.body, itemIds: r.itemIds) }
    return out
}

func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Parsed `odl train --sample-log` lines: partition, offset, key.
func sampleLogEntries(_ path: String) -> [(partition: Int32, offset: Int64, key: String)] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count == 3, let p = Int32(f[0]), let o = Int64(f[1]) else { return nil }
        return (p, o, String(f[2]))
    }
}

/// Resident set size of a process in KiB (VmRSS of /proc/<pid>/status), nil when unreadable.
func residentKiB(_ pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
    return line.split(separator: " ").compactMap { Int($0) }.first
}
