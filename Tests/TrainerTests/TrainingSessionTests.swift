import FG
import Foundation
import Inference
import Logging
import Testing
@testable import Trainer

@Suite(.serialized) struct TrainingSessionTests {
    let layout: SampleLayout

    init() throws {
        layout = try SampleLayout(fields: [.init(name: "label", type: .int64), .init(name: "a", type: .int64)], labelFields: ["label"])
    }

    func records(_ n: Int, partitions: Int32 = 2, bad: Set<Int> = []) -> [SampleRecord] {
        (0..<n).map { i in
            let line = bad.contains(i) ? "oops" : "\(i % 2),\(i)"
            return SampleRecord(partition: Int32(i) % partitions, offset: Int64(i) / Int64(partitions), key: Array("id\(i)".utf8), value: Array(line.utf8))
        }
    }

    func session(_ model: CountingModel, _ source: MemorySource, _ sink: MemorySink?, dir: String?, _ s: TrainingSettings,
                 positions: [Int32: Int64] = [:]) -> TrainingSession {
        let saver = sink.map {
            IncrementalSaver(spec: tinySpec(), settings: s.incremental ?? IncrementalSaveSettings(), sink: $0, debug: nil,
                             step: model.globalStep, time: Date().timeIntervalSince1970, logger: Logger(label: "test"))
        }
        return TrainingSession(spec: tinySpec(), settings: s, model: model, source: source, encoder: ModEncoder(), layout: layout,
                               saver: saver, checkpoints: dir.map { CheckpointStore(directory: $0) }, auc: ConstantAUC(),
                               positions: positions, logger: Logger(label: "test"))
    }

    @Test func updatesReplayedOnTheBaseGiveTheFinalParameters() throws {
        let dir = makeTempDir()
        let model = CountingModel()
        let sink = MemorySink()
        let incr = IncrementalSaveSettings(denseSteps: 3, sparseSteps: 2, maxMessageBytes: 60)
        let s = TrainingSettings(batchSize: 4, saveCheckpointsSteps: 4, keepCheckpointMax: 0, logStepCountSteps: 5, incremental: incr)
        let summary = try session(model, MemorySource(records(42, bad: [5, 17]), finite: true), sink, dir: dir, s).run()
        #expect(summary.reason == .inputExhausted)
        #expect(summary.badSamples == 2)
        #expect(summary.samplesTrained == 40)
        #expect(summary.globalStep == 10)
        #expect(model.batchSizes == Array(repeating: 4, count: 10))
        // No message at step 0; sparse every 2, dense every 3, a final dense at 10 (sparse 10 was periodic).
        let keys = sink.messages.map(\.key)
        #expect(!keys.contains { $0.hasSuffix("_0") })
        #expect(Set(keys.filter { $0.hasPrefix("dense") }) == ["dense_update_3", "dense_update_6", "dense_update_9", "dense_update_10"])
        #expect(Set(keys.filter { $0.hasPrefix("sparse") }) == Set([2, 4, 6, 8, 10].map { "sparse_update_\($0)" }))
        #expect(keys.filter { $0 == "sparse_update_2" }.count > 1)  // 60-byte cap splits sparse messages
        // Base = model.ckpt-0, written before training; replaying every message on it gives the final model.
        let base = try CheckpointStore.read(try CheckpointStore.resolve(path: dir + "/model.ckpt-0"), spec: tinySpec())
        #expect(base.globalStep == 0)
        let replay = try ParameterStore(spec: tinySpec(), parameters: base.parameters)
        for m in sink.messages { _ = try replay.apply(try UpdateCodec.decode(m.value, spec: tinySpec())) }
        #expect(replay.snapshotParameters() == model.parameters())
        let last = try CheckpointStore.read(try #require(CheckpointStore(directory: dir).latest()), spec: tinySpec())
        #expect(last.globalStep == 10 && last.parameters == model.parameters())
        #expect(last.updateOffsets == [0: Int64(sink.messages.count)])
        #expect(last.slots == [CheckpointTensor(name: "beta1_power", shape: [], values: [9])])
        #expect(CheckpointStore(directory: dir).all().map(\.step) == [0, 4, 8, 10])
    }

    @Test func checkpointOffsetsAreTheLastTrainedSamplePerPartition() throws {
        let dir = makeTempDir()
        let model = CountingModel()
        let s = TrainingSettings(batchSize: 5, numSteps: 3, saveCheckpointsSteps: 2, keepCheckpointMax: 0)
        let src = MemorySource(records(40, partitions: 2), finite: false)
        let summary = try session(model, src, nil, dir: dir, s, positions: [0: 0, 1: 0]).run()
        #expect(summary.reason == .numSteps)
        #expect(summary.globalStep == 3)
        // Step 2 trained samples 0..9: partition 0 offsets 0..4, partition 1 offsets 0..4.
        #expect(try OffsetMap.read(path: dir + "/model.ckpt-2.offset") == [0: 4, 1: 4])
        // Step 3 trained samples 10..14: last of p0 is sample 14 (offset 7), of p1 sample 13 (offset 6).
        #expect(try OffsetMap.read(path: dir + "/model.ckpt-3.offset") == [0: 7, 1: 6])
        #expect(try OffsetMap.read(path: dir + "/model.ckpt-0.offset") == [0: 0, 1: 0])
        #expect(src.commits.last == [0: 7, 1: 6])
    }

    @Test func stopFileEndsWithFinalUpdatesAndCheckpoint() throws {
        let dir = makeTempDir()
        let model = CountingModel()
        let sink = MemorySink()
        var s = TrainingSettings(batchSize: 2, saveCheckpointsSteps: 1000,
                                 incremental: IncrementalSaveSettings(denseSteps: 1000, sparseSteps: 1000))
        s.stopFileInterval = 0
        let sess = session(model, MemorySource(records(1000), finite: false), sink, dir: dir, s)
        sess.afterStepHook = { step in
            if step == 7 { FileManager.default.createFile(atPath: dir + "/OSS_STOP_SIGNAL", contents: nil) }
        }
        let summary = try sess.run()
        #expect(summary.reason == .stopFile)
        #expect(summary.globalStep == 7)
        #expect(sink.messages.map(\.key) == ["sparse_update_7", "dense_update_7"])
        #expect(CheckpointStore(directory: dir).latest()?.step == 7)
    }

    @Test func linesFailingFeatureEncodingAreSkippedNotFatal() throws {
        var recs = records(20, partitions: 1)
        recs[3].value = Array("1,5000".utf8)
        recs[11].value = Array("0,7000".utf8)
        let model = CountingModel()
        let dir = makeTempDir()
        var s = TrainingSettings(batchSize: 4)
        s.sampleLogPath = dir + "/samples.log"
        let summary = try session(model, MemorySource(recs, finite: true), nil, dir: nil, s).run()
        #expect(summary.badSamples == 2)
        #expect(summary.samplesTrained == 18)
        #expect(model.batchSizes == [4, 4, 4, 4, 2])
        let logged = try String(contentsOfFile: dir + "/samples.log", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t")[1] }
        #expect(logged.count == 18 && !logged.contains("3") && !logged.contains("11"))
    }

    @Test func signalStopsGracefully() throws {
        let model = CountingModel()
        let s = TrainingSettings(batchSize: 2)
        let sess = session(model, MemorySource(records(1000), finite: false), nil, dir: makeTempDir(), s)
        sess.afterStepHook = { step in if step == 3 { terminationRequested.store(SIGTERM, ordering: .relaxed) } }
        defer { TerminationSignals.reset() }
        let summary = try sess.run()
        #expect(summary.reason == .signal)
        #expect(summary.globalStep == 3)
    }
}
