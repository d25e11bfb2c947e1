import Config
import Foundation
import Kafka

/// `odl demo`: the whole ODL story with real processes of this binary. A broker, an offline
/// base trained on yesterday, a static and a live processor on that base, a streaming trainer
/// fed today's clicks, progressive validation of both processors, a kill -9 restart check,
/// and a report.
package struct DemoRun {
    let options: DemoOptions
    let work: String
    let binary: String

    package init(options: DemoOptions) throws {
        self.options = options
        let fm = FileManager.default
        work = options.workDir.hasPrefix("/") ? options.workDir : fm.currentDirectoryPath + "/" + options.workDir
        binary = try Self.resolveBinary(options.odlBinary)
    }

    /// This executable: /proc/self/exe, else argv[0] resolved against the working directory.
    static func resolveBinary(_ override: String?) throws -> String {
        let fm = FileManager.default
        if let override { return override }
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe"), fm.isExecutableFile(atPath: exe) {
            return exe
        }
        let arg0 = CommandLine.arguments.first ?? "odl"
        let path = arg0.hasPrefix("/") ? arg0 : fm.currentDirectoryPath + "/" + arg0
        guard fm.isExecutableFile(atPath: path) else { throw DemoError("cannot locate the odl binary (tried \(path))") }
        return path
    }

    private var logs: String { work + "/logs" }

    private func start(_ name: String, _ args: [String]) throws -> ChildProcess {
        DemoLog.say("start: odl \(args.joined(separator: " "))")
        return try ChildProcess(name: name, executable: binary, arguments: args, logPath: "\(logs)/\(name).log")
    }

    /// Runs the demo; returns the process exit code (0 = live beat static by the margin and the restart was exact).
    package func run() async throws -> Int32 {
        ChildRegistry.shared.installSignalHandlers()
        do {
            let code = try await runSteps()
            ChildRegistry.shared.killAll()
            return code
        } catch {
            DemoLog.say("demo failed: \(error)")
            ChildRegistry.shared.killAll()
            throw error
        }
    }

    private func phase<T>(_ name: String, _ results: inout DemoResults, _ body: () async throws -> T) async rethrows -> T {
        let t0 = Date()
        let v = try await body()
        let s = Date().timeIntervalSince(t0)
        results.phases.append((name, s))
        DemoLog.say(String(format: "done: %@ (%.1f s)", name, s))
        return v
    }

    private func runSteps() async throws -> Int32 {
        let fm = FileManager.default
        let modelDir = options.modelDir.hasPrefix("/") ? options.modelDir : fm.currentDirectoryPath + "/" + options.modelDir
        let fgPath = modelDir + "/fg.json"
        let configPath = modelDir + "/pipeline.config"
        for p in [fgPath, configPath] where !fm.fileExists(atPath: p) {
            throw DemoError("missing \(p) (run from the repository root, or pass --model-dir)")
        }
        if fm.fileExists(atPath: work) { try fm.removeItem(atPath: work) }
        for d in [work, logs, work + "/configs", work + "/world"] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        DemoLog.say("odl demo: work dir \(work), binary \(binary)")
        var results = DemoResults(seed: options.world.seed, worldSummary: "", requiredMargin: options.requiredMargin)
        let t0 = Date()

        // 1. The broker.
        let broker = try start("broker", ["broker", "--topic", "\(options.sampleTopic):1", "--topic", "\(options.updateTopic):1",
                                          "--bootstrap-file", work + "/bootstrap.txt"])
        let bootstrap = try await broker.waitForLine(prefix: "bootstrap:", timeout: 30)
        DemoLog.say("broker at \(bootstrap)")
        var datahub: (child: ChildProcess, sink: DataHubSampleSink)?
        if options.input == "datahub" {
            let child = try start("datahub", ["datahub", "--access-id", DataHubSampleSink.accessId, "--access-key", DataHubSampleSink.accessKey,
                                              "--topic", "\(options.datahubProject)/\(options.sampleTopic):1"])
            let url = try await child.waitForLine(prefix: "endpoint:", timeout: 30)
            DemoLog.say("datahub endpoint at \(url)")
            datahub = (child, DataHubSampleSink(endpoint: url, project: options.datahubProject, topic: options.sampleTopic))
        }

        // 2. The world.
        let (world, rendered) = try await phase("generate the world", &results) {
            let world = try WorldGenerator.generate(options.world)
            let renderer = try FGSampleRenderer(fgJSONPath: fgPath, separator: ",")
            let rendered = try world.render(with: renderer)
            try WorldFiles.write(world: world, rendered: rendered, to: work + "/world")
            return (world, rendered)
        }
        results.worldSummary = worldLine(world)
        DemoLog.say(results.worldSummary)

        // 3. Configs: offline base (files, no incremental updates) and online (Kafka in and out).
        // The base reads yesterday in one fixed, seeded shuffle (time order would end every pass
        // on the last hours' users and items), `epochs` times.
        let yesterdayPath = work + "/world/yesterday_shuffled.csv"
        try WorldFiles.writeLines(WorldFiles.shuffled(rendered.yesterdaySamples, seed: options.world.seed), to: yesterdayPath)
        let baseDir = work + "/base", onlineDir = work + "/online", exportDir = work + "/export"
        var base = try PipelineConfig.load(path: configPath)
        base.proto.trainInputPath = Array(repeating: yesterdayPath, count: max(1, options.epochs)).joined(separator: ",")
        base.proto.dataConfig.inputType = .csvinput
        base.proto.dataConfig.batchSize = UInt32(options.baseBatchSize)
        base.proto.trainConfig.clearIncrSaveConfig()
        base.proto.fgJsonPath = fgPath
        base.proto.modelDir = baseDir
        try base.validate()
        var online = try PipelineConfig.load(path: configPath)
        if let sink = datahub?.sink {
            online.proto.datahubTrainInput = sink.input
        } else {
            online.proto.kafkaTrainInput.server = bootstrap
            online.proto.kafkaTrainInput.topic = options.sampleTopic
        }
        online.proto.trainConfig.incrSaveConfig.kafka.server = bootstrap
        online.proto.trainConfig.incrSaveConfig.kafka.topic = options.updateTopic
        online.proto.trainConfig.fineTuneCheckpoint = baseDir
        online.proto.fgJsonPath = fgPath
        online.proto.modelDir = onlineDir
        try online.validate()
        let baseConfig = work + "/configs/base.config", onlineConfig = work + "/configs/online.config"
        try base.write(path: baseConfig)
        try online.write(path: onlineConfig)

        // 4. Offline base on yesterday, exported.
        try await phase("offline base training on yesterday (\(rendered.yesterdaySamples.count) samples x \(options.epochs) epochs)", &results) {
            let trainer = try start("train-base", ["train", "--config", baseConfig, "--model-dir", baseDir])
            try await waitSuccess(trainer, timeout: 900, echoPrefix: "base")
        }
        try await phase("export the base", &results) {
            let export = try start("export", ["export", "--config", onlineConfig, "--checkpoint-path", baseDir,
                                              "--export-dir", exportDir])
            try await waitSuccess(export, timeout: 300, echoPrefix: nil)
        }

        // 5. Processors on the base: live (applies updates) and static (--no-updates).
        let (live, staticProc, liveClient, staticClient) = try await phase("start the processors", &results) {
            let live = try start("serve-live", ["serve", "--model", exportDir, "--host", "127.0.0.1", "--port", "0"])
            let stat = try start("serve-static", ["serve", "--model", exportDir, "--host", "127.0.0.1", "--port", "0", "--no-updates"])
            let liveURL = try await live.waitForLine(prefix: "listening:", timeout: 120)
            let staticURL = try await stat.waitForLine(prefix: "listening:", timeout: 120)
            let lc = ProcessorClient(name: "live", baseURL: liveURL)
            let sc = ProcessorClient(name: "static", baseURL: staticURL)
            try await lc.waitReady(timeout: 120)
            try await sc.waitReady(timeout: 120)
            DemoLog.say("live processor \(liveURL), static processor \(staticURL)")
            return (live, stat, lc, sc)
        }

        // 6. Online trainer from yesterday's checkpoint, then the stream with progressive validation.
        let watcher = try UpdateWatcher(bootstrap: bootstrap, topic: options.updateTopic)
        watcher.start()
        let poller = StatusPoller(client: liveClient)
        await poller.start()
        let trainer = try start("train-online", ["train", "--config", onlineConfig, "--model-dir", onlineDir])
        var streamOptions = options
        streamOptions.onlineBatchSize = max(1, Int(online.proto.dataConfig.batchSize))
        streamOptions.onlineSaveSteps = max(1, Int(online.proto.trainConfig.incrSaveConfig.denseSaveSteps))
        let stream = DemoStream(options: streamOptions, bootstrap: bootstrap, live: liveClient, staticClient: staticClient,
                                trainer: trainer, processes: [broker, live, staticProc] + (datahub.map { [$0.child] } ?? []),
                                datahub: datahub?.sink)
        let outcome = try await phase("stream today with progressive validation", &results) {
            try await stream.run(rendered.today)
        }
        results.scored = outcome.scored
        results.windows = outcome.windows
        results.streamSeconds = outcome.seconds
        results.samplesStreamed = outcome.samples

        // 7. Drain: the trainer trains what was streamed, flushes its final updates and stops;
        //    the live processor applies everything.
        try await phase("drain: trainer catches up and stops, live processor applies the rest", &results) {
            try await stream.waitTrainerCaughtUp(produced: outcome.samples, timeout: 60)
            _ = FileManager.default.createFile(atPath: onlineDir + "/OSS_STOP_SIGNAL", contents: nil)
            guard let status = await trainer.waitForExit(timeout: 90) else {
                throw DemoError("online trainer did not stop within 90 s after OSS_STOP_SIGNAL; log \(trainer.logPath):\n\(trainer.tail())")
            }
            guard status.code == 0 && !status.signaled else {
                throw DemoError("online trainer exited with status \(status.code); log \(trainer.logPath):\n\(trainer.tail())")
            }
            try await waitApplied(liveClient, watcher: watcher, timeout: 60)
        }
        await poller.stop()
        watcher.stop()
        let seen = watcher.messages
        results.updateMessages = seen.count
        results.updateBytes = seen.reduce(0) { $0 + $1.bytes }
        results.freshness = await poller.freshness(of: seen)
        let finalStatus = StatusSnapshot(json: try await liveClient.status())
        results.messagesApplied = finalStatus.messagesApplied
        results.messagesRejected = finalStatus.messagesRejected
        results.rowsApplied = finalStatus.rowsApplied
        results.denseStep = finalStatus.denseStep
        results.sparseStep = finalStatus.sparseStep
        results.processorFreshnessMean = finalStatus.freshnessMean
        results.processorFreshnessMax = finalStatus.freshnessMax

        // 8. kill -9 the live processor, restart it on the base, replay, compare.
        results.restart = try await phase("kill -9 the live processor, restart, replay, compare", &results) {
            try await restartCheck(live: live, liveClient: liveClient, exportDir: exportDir,
                                   requests: Array(rendered.today.prefix(options.restartRequests)))
        }

        await staticProc.stop()
        await broker.stop()
        await datahub?.child.stop()
        results.phases.append(("total", Date().timeIntervalSince(t0)))

        // 9. Table and report.
        let table = results.table()
        DemoLog.raw("\n" + table + "\n\n")
        try Data(table.utf8).write(to: URL(fileURLWithPath: work + "/results.txt"))
        let reportPath = work + "/report.html"
        try Data(DemoReport.html(results).utf8).write(to: URL(fileURLWithPath: reportPath))
        DemoLog.say("report: \(reportPath)")
        if !results.passed {
            DemoLog.say("FAIL: live must beat static on items born today by >= \(DemoResults.f(options.requiredMargin, 3)) AUC "
                        + "and the restart must reproduce predictions exactly")
            return 1
        }
        return 0
    }

    private func worldLine(_ world: World) -> String {
        let s = world.summary()
        let today = s["today"] as? [String: Any] ?? [:]
        let newImps = ProcessorClient.number(today["impressions_of_items_born_today"]) ?? 0
        let imps = ProcessorClient.number(today["impressions"]) ?? 1
        return "world: seed \(world.config.seed), \(world.users.count) users, \(world.items.count) items "
            + "(\(s["items_born_today"] ?? 0) born today); today: \(Int(imps)) impressions, "
            + String(format: "%.0f%% on items born today, ground-truth AUC %.3f",
                     100 * newImps / max(imps, 1), ProcessorClient.number(today["true_auc"]) ?? 0)
    }

    /// Waits for a short-lived child to exit 0, echoing its progress lines.
    private func waitSuccess(_ child: ChildProcess, timeout: Double, echoPrefix: String?) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastEcho = Date()
        var lastLine = ""
        while Date() < deadline {
            if let status = child.exitStatus {
                ChildRegistry.shared.remove(child.pid)
                guard status.code == 0 && !status.signaled else {
                    throw DemoError("\(child.name) failed (status \(status.code)); log \(child.logPath):\n\(child.tail())")
                }
                return
            }
            if let prefix = echoPrefix, Date().timeIntervalSince(lastEcho) > 5 {
                lastEcho = Date()
                let line = child.output().split(separator: "\n").last { $0.contains("step") }.map(String.init) ?? ""
                if !line.isEmpty && line != lastLine { DemoLog.say("\(prefix): \(line)"); lastLine = line }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        await child.stop(grace: 2)
        throw DemoError("\(child.name) did not finish within \(Int(timeout)) s; log \(child.logPath):\n\(child.tail())")
    }

    /// Waits until the processor has applied every message on the update topic.
    private func waitApplied(_ client: ProcessorClient, watcher: UpdateWatcher, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        let consumer = try Consumer(ConsumerConfig(bootstrap: try await brokerBootstrap()))
        defer { consumer.close() }
        var high: Int64 = -1
        while Date() < deadline {
            high = (try? consumer.watermarks(topic: options.updateTopic, partition: 0).high) ?? high
            if let s = try? await client.status(), let next = StatusSnapshot(json: s).nextOffset, high >= 0, next >= high {
                // Let the watcher see the tail of the topic too.
                try await Task.sleep(for: .milliseconds(300))
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoError("live processor did not apply all \(high) update messages within \(Int(timeout)) s")
    }

    private func brokerBootstrap() async throws -> String {
        let text = try String(contentsOfFile: work + "/bootstrap.txt", encoding: .utf8)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Scores a fixed request set, kills the live processor with SIGKILL, restarts it on the
    /// base, waits for /readyz (replay), and scores again: the answers must be identical.
    private func restartCheck(live: ChildProcess, liveClient: ProcessorClient, exportDir: String,
                              requests: [TodayRequest]) async throws -> RestartCheck {
        var before: [Double] = []
        for r in requests { before += try await liveClient.predict(body: r.body, itemIds: r.itemIds) }
        let statusBefore = StatusSnapshot(json: try await liveClient.status())
        DemoLog.say("live processor: dense step \(statusBefore.denseStep.map(String.init) ?? "-"), checksum \(statusBefore.checksum ?? "-"); kill -9 pid \(live.pid)")
        await live.crash()
        let t0 = Date()
        let restarted = try start("serve-live-restarted", ["serve", "--model", exportDir, "--host", "127.0.0.1", "--port", "0"])
        let url = try await restarted.waitForLine(prefix: "listening:", timeout: 120)
        let client = ProcessorClient(name: "live (restarted)", baseURL: url)
        try await client.waitReady(timeout: 300)
        let replay = Date().timeIntervalSince(t0)
        let statusAfter = StatusSnapshot(json: try await client.status())
        var after: [Double] = []
        for r in requests { after += try await client.predict(body: r.body, itemIds: r.itemIds) }
        let maxDiff = zip(before, after).map { abs($0 - $1) }.max() ?? 0
        let identical = before.count == after.count && zip(before, after).allSatisfy { $0 == $1 }
            && (statusBefore.checksum == nil || statusBefore.checksum == statusAfter.checksum)
        DemoLog.say("restarted processor ready after \(String(format: "%.2f", replay)) s: predictions \(identical ? "identical" : "DIFFERENT"), checksum \(statusAfter.checksum ?? "-")")
        await restarted.stop()
        return RestartCheck(requests: requests.count, items: before.count, identical: identical, maxAbsDifference: maxDiff,
                            checksumBefore: statusBefore.checksum, checksumAfter: statusAfter.checksum,
                            replaySeconds: replay, messagesReplayed: statusAfter.messagesApplied)
    }
}
