import FG
import Foundation
import Inference
import Logging

/// A running AUC over the probabilities and labels seen (the model module's `StreamingAUC` conforms).
public protocol AUCTracker {
    mutating func update(probs: [Float], labels: [Float])
    var value: Double { get }
}

/// The training loop: reads samples, trains batches, sends incremental updates, writes
/// checkpoints, reports progress and stops by the rules of trainer.md. Runs on the calling
/// thread (give it a dedicated `Thread`, never the cooperative pool).
public final class TrainingSession {
    public let spec: ModelSpec
    public let settings: TrainingSettings
    let model: any TrainingModel
    let source: any SampleSource
    let encoder: any BatchEncoding
    var parser: SampleParser
    let saver: IncrementalSaver?
    let checkpoints: CheckpointStore?
    var auc: any AUCTracker
    var stop: StopConditions
    let logger: Logger
    let progress: ProgressReporter
    /// Called with the global step after each trained step (tests use it to inject stop events).
    public var afterStepHook: ((Int) -> Void)?

    /// Last consumed offset per partition, as of the last trained step (the `.offset` content).
    public private(set) var positions: [Int32: Int64]
    private var sampleLog: FileHandle?

    /// `positions` are the start offsets per partition: saved as they are until a partition has
    /// trained samples (a restart resumes *at* a saved offset, so an untouched partition restarts
    /// where this run started).
    public init(spec: ModelSpec, settings: TrainingSettings, model: any TrainingModel, source: any SampleSource,
                encoder: any BatchEncoding, layout: SampleLayout, saver: IncrementalSaver?, checkpoints: CheckpointStore?,
                auc: any AUCTracker, positions: [Int32: Int64], logger: Logger) {
        self.spec = spec
        self.settings = settings
        self.model = model
        self.source = source
        self.encoder = encoder
        self.parser = SampleParser(schema: layout)
        self.saver = saver
        self.checkpoints = checkpoints
        self.auc = auc
        self.positions = positions
        self.logger = logger
        self.stop = StopConditions(numSteps: settings.numSteps, deadline: settings.deadline,
                                   stopFile: checkpoints.map(\.stopSignalPath),
                                   stopFileInterval: settings.stopFileInterval)
        self.progress = ProgressReporter(numSteps: settings.numSteps)
    }

    /// Trains until a stop rule fires, then sends the final updates, writes the final
    /// checkpoint and returns. Throws on an unrecoverable failure (an update that could not be
    /// delivered, a checkpoint that could not be written, an input that broke).
    public func run() throws -> TrainingSummary {
        if let path = settings.sampleLogPath {
            if !FileManager.default.fileExists(atPath: path), !FileManager.default.createFile(atPath: path, contents: nil) {
                throw TrainerError.input(source: path, reason: "cannot create the sample log")
            }
            sampleLog = FileHandle(forWritingAtPath: path)
            sampleLog?.seekToEndOfFile()
        }
        defer { try? sampleLog?.close() }
        let clock = { Date().timeIntervalSince1970 }
        let startTime = clock()
        let startStep = model.globalStep
        var ckptTrigger = PeriodicTrigger(steps: settings.saveCheckpointsSeconds == nil ? settings.saveCheckpointsSteps : nil,
                                          seconds: settings.saveCheckpointsSeconds, step: startStep, time: startTime)
        var logTrigger = PeriodicTrigger(steps: max(1, settings.logStepCountSteps), seconds: nil, step: startStep, time: startTime)
        var checkpointsWritten = 0
        if let store = checkpoints, store.latest() == nil {
            // Like TensorFlow's saver: a fresh model_dir gets model.ckpt-<start step> first (the base an export starts from).
            try writeCheckpoint(store)
            checkpointsWritten += 1
        }

        var lines: [[UInt8]] = []
        var origins: [SampleRecord] = []
        var labels: [Float] = []
        var pending: [Int32: Int64] = [:]
        lines.reserveCapacity(settings.batchSize)
        labels.reserveCapacity(settings.batchSize)
        var batch = EncodedBatch(columnCount: spec.columns.count)
        var samples = 0
        var bad = 0
        var windowSamples = 0
        var windowStart = clock()
        var windowStartStep = model.globalStep
        var lastLoss: Float = .nan
        var reason: StopReason = .inputExhausted

        while true {
            let now = clock()
            if let r = stop.check(globalStep: model.globalStep, time: now) {
                reason = r
                break
            }
            let want = settings.batchSize - lines.count
            let records = try source.poll(maxRecords: want, timeout: 0.2)
            for r in records {
                pending[r.partition] = r.offset
                do {
                    try parser.parse(String(decoding: r.value, as: UTF8.self))
                } catch {
                    bad += 1
                    progress.clearBar()
                    logger.warning("bad sample skipped at \(source.describe(r)): \(error)")
                    continue
                }
                lines.append(parser.usedDefaults ? parser.line : r.value)
                origins.append(r)
                labels.append(parser.label)
            }
            let exhausted = records.isEmpty && source.isExhausted
            guard lines.count >= settings.batchSize || (exhausted && !lines.isEmpty) else {
                if exhausted {
                    // Bad samples at the very end still count as consumed.
                    for (p, o) in pending { positions[p] = o }
                    reason = .inputExhausted
                    break
                }
                continue
            }
            do {
                try encoder.encode(lines: lines, into: &batch)
            } catch {
                // Some line passed the parser but not feature encoding: find and drop it, keep the rest.
                bad += dropUnencodable(&lines, &labels, &origins, batchError: error)
                // Refill the batch from the input before training (unless the input is done).
                if lines.isEmpty || (lines.count < settings.batchSize && !exhausted) { continue }
                try encoder.encode(lines: lines, into: &batch)
            }
            let (loss, probs) = model.trainStep(batch: batch, labels: labels)
            guard !loss.isNaN || probs.count == labels.count else {
                throw TrainerError.input(source: "batch at step \(model.globalStep)", reason: "the model rejected the encoded batch")
            }
            lastLoss = loss
            auc.update(probs: probs, labels: labels)
            samples += lines.count
            windowSamples += lines.count
            for (p, o) in pending { positions[p] = o }
            pending.removeAll(keepingCapacity: true)
            if let log = sampleLog {
                var text = ""
                for r in origins {
                    text += "\(r.partition)\t\(r.offset)\t\(r.key.map { String(decoding: $0, as: UTF8.self) } ?? "")\n"
                }
                log.write(Data(text.utf8))
            }
            lines.removeAll(keepingCapacity: true)
            labels.removeAll(keepingCapacity: true)
            origins.removeAll(keepingCapacity: true)

            let step = model.globalStep
            let t = clock()
            try saver?.afterStep(model: model, step: step, time: t)
            if let store = checkpoints, ckptTrigger.isDue(step: step, time: t) {
                try writeCheckpoint(store)
                ckptTrigger.mark(step: step, time: t)
                checkpointsWritten += 1
            }
            let elapsed = max(1e-9, t - windowStart)
            let line = ProgressLine(step: step, samplesPerSecond: Double(windowSamples) / elapsed,
                                    loss: lastLoss, auc: auc.value, lag: nil, badSamples: bad,
                                    numSteps: progress.numSteps, stepsPerSecond: Double(step - windowStartStep) / elapsed)
            if logTrigger.isDue(step: step, time: t) {
                var withLag = line
                withLag.lag = source.lag(positions: positions)
                progress.clearBar()
                logger.info("\(withLag.text)")
                logTrigger.mark(step: step, time: t)
                windowSamples = 0
                windowStart = t
                windowStartStep = step
            }
            progress.drawBar(line)
            afterStepHook?(step)
            if exhausted { reason = .inputExhausted; break }
        }
        progress.clearBar()
        let step = model.globalStep
        logger.info("stopping at step \(step): \(reason.rawValue)")
        try saver?.finish(model: model, step: step, time: clock())
        if let store = checkpoints {
            try writeCheckpoint(store)
            checkpointsWritten += 1
        }
        source.commit(positions: positions)
        let elapsed = clock() - startTime
        return TrainingSummary(reason: reason, globalStep: step, stepsTrained: step - startStep, samplesTrained: samples,
                               badSamples: bad, updateMessages: saver?.messagesSent ?? 0, updateBytes: saver?.bytesSent ?? 0,
                               checkpoints: checkpointsWritten, seconds: elapsed, positions: positions)
    }

    /// Encodes lines one by one, removes those that fail (logging where they came from) and
    /// returns how many were removed.
    func dropUnencodable(_ lines: inout [[UInt8]], _ labels: inout [Float], _ origins: inout [SampleRecord],
                         batchError: any Error) -> Int {
        var single = EncodedBatch(columnCount: spec.columns.count)
        var keep: [Int] = []
        for i in lines.indices {
            do {
                try encoder.encode(lines: [lines[i]], into: &single)
                keep.append(i)
            } catch {
                progress.clearBar()
                logger.warning("bad sample skipped at \(source.describe(origins[i])): \(error)")
            }
        }
        if keep.count == lines.count {
            logger.warning("batch encoding failed (\(batchError)) but every line encodes alone; skipping the batch")
            keep = []
        }
        let removed = lines.count - keep.count
        lines = keep.map { lines[$0] }
        labels = keep.map { labels[$0] }
        origins = keep.map { origins[$0] }
        return removed
    }

    /// Writes a checkpoint of the current state (parameters, optimizer slots, offsets).
    func writeCheckpoint(_ store: CheckpointStore) throws {
        var slots: [CheckpointTensor] = []
        for (name, s) in model.optimizerState().sorted(by: { $0.key < $1.key }) {
            slots.append(CheckpointTensor(name: name, shape: s.shape, values: s.values))
        }
        let contents = CheckpointContents(globalStep: model.globalStep, parameters: model.parameters(), slots: slots,
                                          updateOffsets: saver?.sink.nextOffsets ?? [:],
                                          inputOffsets: source.hasOffsets ? positions : nil,
                                          inputCursors: source.hasOffsets ? source.cursors(positions: positions) : [:])
        let ref = try store.write(contents, spec: spec, keep: settings.keepCheckpointMax)
        source.commit(positions: positions)
        logger.info("checkpoint \(ref.path) written (offsets \(OffsetMap.encode(positions)))")
    }
}
