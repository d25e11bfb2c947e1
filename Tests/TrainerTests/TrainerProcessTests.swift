import Config
import Export
import FG
import Foundation
import Inference
import Kafka
import Testing
@testable import Trainer

@Suite(.serialized) struct TrainerProcessTests {
    /// Streaming run with updates to Kafka, stopped by OSS_STOP_SIGNAL: exit 0 after a final update pair and
    /// checkpoint; the base (model.ckpt-0) plus every update message equals the final checkpoint bit for bit;
    /// an export of the final checkpoint reads back identical and records the update topic's end.
    /// On the real broker, the broker is restarted mid-stream (between the two halves of the samples):
    /// the trainer continues, no sample is lost or trained twice, the updates still replay exactly.
    @Test(arguments: BrokerKind.forTests)
    func stopSignalFlushesAndUpdatesReplayExactly(kind: BrokerKind) throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let broker = try BrokerProcess(topics: ["samples:2", "updates:1"], dir: dir, kind: kind)
        defer { broker.stop() }
        let n = 203
        let all = tinySamples(n, withBad: true)
        let half = 100
        try produceSamples(bootstrap: broker.bootstrap, topic: "samples", lines: Array(all.prefix(half)),
                           partition: { Int32($0 % 2) })
        let modelDir = dir + "/model"
        let configPath = dir + "/tiny.config"
        try tinyConfig(bootstrap: broker.bootstrap, samples: "samples", updates: "updates", modelDir: modelDir)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let trainer = try OdlProcess(["train", "--config", configPath, "--stop-check-secs", "0.2",
                                      "--sample-log", dir + "/samples.log"], log: dir + "/train.log")
        #expect(waitUntil(60) { sampleLog(dir + "/samples.log").count >= 40 }, "trainer output: \(trainer.output)")
        if let real = broker.real {
            real.stop(graceful: true)
            usleep(500_000)
            try real.start()
        }
        // Line i goes to partition i % 2 (half is even, so the second half continues the pattern).
        try produceSamples(bootstrap: broker.bootstrap, topic: "samples", lines: Array(all.suffix(from: half)),
                           partition: { Int32($0 % 2) })
        // All good samples are trained except a last partial batch; wait until the trainer caught up.
        let good = all.filter { !$0.hasSuffix("broken") }.count
        #expect(waitUntil(60) { sampleLog(dir + "/samples.log").count >= good / 8 * 8 }, "trainer output: \(trainer.output)")
        FileManager.default.createFile(atPath: modelDir + "/OSS_STOP_SIGNAL", contents: nil)
        let status = trainer.wait(timeout: 30)
        #expect(status == 0, "trainer output: \(trainer.output)")
        #expect(trainer.output.contains("bad sample skipped at topic samples partition"))
        let trained = sampleLog(dir + "/samples.log")
        #expect(Set(trained.map { "\($0.partition)/\($0.offset)" }).count == trained.count, "no sample trained twice")

        let config = try TrainerConfig.load(path: configPath, edits: nil, modelDir: nil, logger: .init(label: "t"))
        let store = CheckpointStore(directory: modelDir)
        let final = try CheckpointStore.read(try #require(store.latest()), spec: config.spec)
        #expect(final.globalStep == good / 8)
        let base = try CheckpointStore.read(try CheckpointStore.resolve(path: modelDir + "/model.ckpt-0"), spec: config.spec)
        let messages = try readAll(bootstrap: broker.bootstrap, topic: "updates")
        #expect(final.updateOffsets == [0: Int64(messages.count)])
        let keys = messages.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }
        #expect(keys.suffix(2).sorted() == ["dense_update_\(final.globalStep)", "sparse_update_\(final.globalStep)"])
        #expect(!keys.contains("dense_update_0") && !keys.contains("sparse_update_0"))
        let replay = try ParameterStore(spec: config.spec, parameters: base.parameters)
        for m in messages { _ = try replay.apply(try UpdateCodec.decode(m.value, spec: config.spec)) }
        #expect(replay.snapshotParameters() == final.parameters)

        let exportDir = dir + "/export"
        let exporter = try OdlProcess(["export", "--config", configPath, "--checkpoint-path", modelDir, "--export-dir", exportDir],
                                      log: dir + "/export.log")
        #expect(exporter.wait(timeout: 60) == 0, "export output: \(exporter.output)")
        let version = try ExportReader.resolveVersionDir(exportDir)
        #expect(try ExportReader.loadParameters(version, spec: config.spec) == final.parameters)
        let manifest = try ExportReader.readManifest(version)
        #expect(manifest.kafka?.topic == "updates")
        #expect(manifest.kafka?.offset == Int64(messages.count))
        #expect(manifest.denseVariableIds.count == config.spec.denseVariables.count)
    }

    /// kill -9 mid-stream, then restart: the restart resumes exactly at the latest checkpoint's offsets (the
    /// message at the saved offset is trained again), never earlier, and every later sample is trained.
    @Test(arguments: BrokerKind.forTests)
    func killNineThenRestartResumesAtCheckpointOffsets(kind: BrokerKind) throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let broker = try BrokerProcess(topics: ["samples:2"], dir: dir, kind: kind)
        defer { broker.stop() }
        let n = 400
        try produceSamples(bootstrap: broker.bootstrap, topic: "samples", lines: tinySamples(n), partition: { Int32($0 % 2) })
        let modelDir = dir + "/model"
        let configPath = dir + "/tiny.config"
        try tinyConfig(bootstrap: broker.bootstrap, samples: "samples", updates: nil, modelDir: modelDir, checkpointSteps: 4)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let log1 = dir + "/run1.log"
        let first = try OdlProcess(["train", "--config", configPath, "--sample-log", log1], log: dir + "/train1.log")
        let store = CheckpointStore(directory: modelDir)
        #expect(waitUntil(60) { (store.latest()?.step ?? 0) >= 12 }, "trainer output: \(first.output)")
        first.signal(SIGKILL)
        _ = first.wait(timeout: 10)
        let ckpt = try #require(store.latest())
        let saved = try #require(try OffsetMap.read(path: ckpt.offsetPath))
        #expect(saved.count == 2)

        let log2 = dir + "/run2.log"
        let second = try OdlProcess(["train", "--config", configPath, "--sample-log", log2, "--stop-check-secs", "0.2"],
                                    log: dir + "/train2.log")
        // Run 2 trains the rest: (n - resumed) samples, in whole batches.
        let resumedCount = saved.reduce(0) { $0 + (n / 2 - Int($1.value)) }
        #expect(waitUntil(60) { sampleLog(log2).count >= resumedCount / 8 * 8 }, "trainer output: \(second.output)")
        FileManager.default.createFile(atPath: modelDir + "/OSS_STOP_SIGNAL", contents: nil)
        #expect(second.wait(timeout: 30) == 0, "trainer output: \(second.output)")
        #expect(second.output.contains("resuming from \(ckpt.path)"))
        let run2 = sampleLog(log2)
        for p: Int32 in [0, 1] {
            let offsets = run2.filter { $0.partition == p }.map(\.offset)
            // Starts exactly at the saved offset (re-reading that message), never before it.
            #expect(offsets.min() == saved[p])
            // Contiguous from there: no sample after the checkpoint skipped.
            let sorted = offsets.sorted()
            #expect(sorted == Array(sorted[0]...sorted[0] + Int64(sorted.count - 1)))
        }
        // Run 1 trained everything up to the saved offsets (as of that checkpoint), so together each sample is covered.
        // A partition run 1 had not reached yet keeps its start offset 0 in the checkpoint (the real broker's fetch
        // answers can hold one partition's whole backlog before the other's).
        let run1 = sampleLog(log1)
        for p: Int32 in [0, 1] {
            let trained = run1.filter { $0.partition == p }.map(\.offset)
            let before = Set(trained.filter { $0 <= saved[p]! })
            if trained.isEmpty {
                #expect(saved[p] == 0, "partition \(p) untouched by run 1")
            } else {
                #expect(before == Set(0...saved[p]!), "partition \(p): run 1 trained \(trained.count), saved \(saved)")
            }
        }
    }

    /// EasyRec's three DeepFM Kafka configs load and train on generated avazu-like data; offset_info and
    /// offset_time decide where each partition starts.
    @Test(arguments: ["deepfm_combo_avazu_kafka.config", "deepfm_combo_avazu_kafka_time_offset.config",
                      "deepfm_combo_avazu_kafka_time_offset2.config"])
    func easyRecSampleConfigsTrain(_ name: String) throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let broker = try BrokerProcess(topics: ["avazu:2"], dir: dir)
        defer { broker.stop() }
        let configPath = "/work/shared/compat/easyrec-samples/" + name
        let configText = try String(contentsOfFile: configPath, encoding: .utf8)
        // The time configs start at 1650765731 (unix) or 20220517 20:00:00 (local time).
        let startSeconds: Int64 = name.hasSuffix("offset2.config")
            ? try #require(ConfigTime.parseDateTime("20220517 20:00:00")) : 1_650_765_731
        let perPartition = 60
        let lines = (0..<(2 * perPartition)).map { avazuLine($0) }
        // Per partition, message k has timestamp start - 20 s + k s: the first at/after start is offset 20.
        try produceSamples(bootstrap: broker.bootstrap, topic: "avazu", lines: lines, partition: { Int32($0 % 2) },
                           timestamp: { (startSeconds - 20 + Int64($0 / 2)) * 1000 })
        let expectedStart: [Int32: Int64] = configText.contains("offset_info: '{\"0\": 5, \"1\": 10}'") ? [0: 5, 1: 10] : [0: 20, 1: 20]
        // Train exactly every message after the start offsets (batch 5 divides both totals, 105 and 80), so each
        // partition's share of the samples is fixed no matter how the consumer interleaves the two partitions.
        let available = expectedStart.values.reduce(0) { $0 + perPartition - Int($1) }
        let batch = 5
        let steps = available / batch
        let edits = """
        {"kafka_train_input.server": "\(broker.bootstrap)", "kafka_train_input.topic": "avazu", "model_dir": "\(dir)/model",
         "data_config.batch_size": \(batch), "train_config.num_steps": \(steps), "train_config.save_checkpoints_steps": 2}
        """
        let trainer = try OdlProcess(["train", "--config", configPath, "--edit-config-json", edits, "--sample-log", dir + "/s.log"],
                                     log: dir + "/train.log")
        #expect(trainer.wait(timeout: 90) == 0, "trainer output: \(trainer.output)")
        let log = sampleLog(dir + "/s.log")
        #expect(log.count == available)
        for (p, start) in expectedStart {
            // Every message from the start offset to the end, once each, and nothing before the start.
            let offsets = log.filter { $0.partition == p }.map(\.offset).sorted()
            #expect(offsets == Array(start..<Int64(perPartition)), "partition \(p): \(offsets)")
        }
        #expect(CheckpointStore(directory: dir + "/model").latest()?.step == steps)
    }
}

/// One avazu-like CSV line (23 fields): label, hour, c1, banner_pos, 16 string fields, c19..c21.
func avazuLine(_ i: Int) -> String {
    var f: [String] = ["\(i % 3 == 0 ? 1 : 0)", "\(i % 24)", "\(1000 + i % 10)", "\(i % 7)"]
    for k in 0..<16 { f.append("v\(k)_\(i % (5 + k))") }
    f += ["\(i % 200)", "\((i * 37) % 1500)", "\(i % 30)"]
    return f.joined(separator: ",")
}
