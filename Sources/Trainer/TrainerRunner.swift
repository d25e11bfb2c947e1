import Config
import EasyRec
import FG
import Foundation
import Inference
import Kafka
import Logging
import Storage

/// Options of one `odl train` run beyond the pipeline config.
public struct TrainOptions: Sendable {
    public var configPath: String
    /// Overrides `model_dir`.
    public var modelDir: String?
    /// `edit_config_json`, applied after loading.
    public var editConfigJSON: String?
    /// Seed of the initial parameters (fresh runs) and of key-value row initialisation.
    public var seed: UInt64
    /// Appends `<partition>\t<offset>\t<key>` of every trained sample here (tests, debugging).
    public var sampleLogPath: String?
    /// Seconds between looks for `OSS_STOP_SIGNAL`.
    public var stopFileInterval: Double

    public init(configPath: String, modelDir: String? = nil, editConfigJSON: String? = nil, seed: UInt64 = 2026,
                sampleLogPath: String? = nil, stopFileInterval: Double = 2) {
        self.configPath = configPath
        self.modelDir = modelDir
        self.editConfigJSON = editConfigJSON
        self.seed = seed
        self.sampleLogPath = sampleLogPath
        self.stopFileInterval = stopFileInterval
    }
}

/// Loads the config, builds model, input, update sink and checkpoints, and trains (`odl train`).
public enum TrainerRunner {
    /// Runs a whole training job on the calling thread (use a dedicated Thread).
    public static func run(_ options: TrainOptions, logger: Logger) throws -> TrainingSummary {
        let config = try TrainerConfig.load(path: options.configPath, edits: options.editConfigJSON,
                                            modelDir: options.modelDir, logger: logger)
        let proto = config.pipeline.proto
        // An object-store model_dir gets a fresh local working copy holding its newest complete
        // checkpoint; every new checkpoint is written there and published to the store.
        let remote: StorageLocation? = Storage.isObjectURL(config.modelDir) ? try Storage.location(config.modelDir) : nil
        let modelDir = remote == nil ? config.modelDir
            : Storage.temporaryPath("model-dir")
        defer { if remote != nil { try? FileManager.default.removeItem(atPath: modelDir) } }
        let store = CheckpointStore(directory: modelDir, remote: remote)
        if let remote {
            let step = try store.pullLatest()
            logger.info("model_dir \(remote.url): \(step.map { "newest complete checkpoint is step \($0)" } ?? "no complete checkpoint yet"); working copy \(modelDir)")
        }
        try FileManager.default.createDirectory(atPath: modelDir, withIntermediateDirectories: true)
        let denseVariables = (modelDir as NSString).appendingPathComponent("DENSE_UPDATE_VARIABLES")
        try DenseUpdateVariablesFile.write(spec: config.spec, to: denseVariables)
        if let remote { try remote.appending("DENSE_UPDATE_VARIABLES").upload(file: denseVariables) }

        // Model: resume from model_dir, else fine_tune_checkpoint, else fresh.
        let optimizer = try config.optimizerSettings()
        let model: TrainableDeepFM
        var savedOffsets: [Int32: Int64]?
        var savedCursors: [Int32: String] = [:]
        var fineTuneOffsets: [Int32: Int64]?
        let latest = store.latest()
        // EasyRec's checkpoint on OSS/S3 is read from a downloaded copy, removed once loaded.
        let remoteEasyRec = latest == nil ? try RemoteEasyRecCheckpoint.fetch(proto.trainConfig.fineTuneCheckpoint) : nil
        defer { remoteEasyRec?.remove() }
        let easyRecPrefix = remoteEasyRec?.localPrefix
            ?? (EasyRecCheckpoint.isCheckpoint(proto.trainConfig.fineTuneCheckpoint) ? proto.trainConfig.fineTuneCheckpoint : nil)
        if let ref = latest {
            let c = try CheckpointStore.read(ref, spec: config.spec)
            model = try TrainableDeepFM(spec: config.spec, parameters: c.parameters, optimizer: optimizer, seed: options.seed)
            var state: [String: (shape: [Int], values: [Float])] = [:]
            for s in c.slots { state[s.name] = (s.shape, s.values) }
            try model.restoreOptimizerState(state)
            model.globalStep = c.globalStep
            savedOffsets = c.inputOffsets
            savedCursors = c.inputCursors
            logger.info("resuming from \(remote?.appending((ref.path as NSString).lastPathComponent).url ?? ref.path) at step \(c.globalStep)")
        } else if let easyRecPrefix {
            // A TensorFlow checkpoint written by EasyRec (`model.ckpt-N`): variables by name.
            let c = try EasyRecCheckpoint(prefix: easyRecPrefix, spec: config.spec)
            model = try TrainableDeepFM(spec: config.spec, parameters: c.parameters, optimizer: optimizer, seed: options.seed)
            let slots = model.restoreMatchingOptimizerState(c.slots)
            model.globalStep = 0
            logger.info("initialised from EasyRec checkpoint \(proto.trainConfig.fineTuneCheckpoint) (step \(c.globalStep ?? 0)); global_step restarts at 0; \(slots.restored.count) optimizer slots restored, \(slots.fresh.count) start fresh")
        } else if !proto.trainConfig.fineTuneCheckpoint.isEmpty {
            let (ref, c) = try CheckpointStore.load(path: proto.trainConfig.fineTuneCheckpoint, spec: config.spec)
            model = try TrainableDeepFM(spec: config.spec, parameters: c.parameters, optimizer: optimizer, seed: options.seed)
            // Like EasyRec, the optimizer's slots come along when the checkpoint has them under the
            // same names (same optimizer): a fresh Adam would take full-size sign steps at first.
            var state: [String: (shape: [Int], values: [Float])] = [:]
            for s in c.slots { state[s.name] = (s.shape, s.values) }
            let slots = model.restoreMatchingOptimizerState(state)
            model.globalStep = 0
            fineTuneOffsets = c.inputOffsets
            logger.info("initialised from fine_tune_checkpoint \(ref.path) (step \(c.globalStep)); global_step restarts at 0; \(slots.restored.count) optimizer slots restored, \(slots.fresh.count) start fresh")
        } else {
            let params = TrainableDeepFM.initialParameters(spec: config.spec, seed: options.seed)
            model = try TrainableDeepFM(spec: config.spec, parameters: params, optimizer: optimizer, seed: options.seed)
        }

        // Input.
        let source: any SampleSource
        var positions: [Int32: Int64] = [:]
        var kafkaSource: KafkaSampleSource?
        if case .kafkaTrainInput(let k)? = proto.trainPath {
            var settings: [String: String] = [:]
            for (key, value) in try k.librdkafkaProperties() { settings[key] = value }
            let ks = try KafkaSampleSource(server: k.server, topic: k.topic, group: k.group, settings: settings, logger: logger)
            let spec = OffsetSpec(try k.startPosition())
            let starts = try StartPosition.resolve(topicPartitions: try ks.partitions(), checkpoint: savedOffsets,
                                                   fineTune: fineTuneOffsets, spec: spec) { p, ms in
                try ks.offsetForTime(partition: p, unixMillis: ms)
            }
            for s in starts {
                logger.info("input topic \(k.topic) partition \(s.partition) starts at offset \(s.offset) (\(s.rule.rawValue))")
                positions[s.partition] = s.offset
            }
            try ks.start(starts)
            source = ks
            kafkaSource = ks
        } else if case .datahubTrainInput(let d)? = proto.trainPath {
            let ds = try DataHubSampleSource(endpoint: d.region, accessId: d.akID, accessKey: d.akSecret, project: d.project,
                                             topic: d.topic, inputFields: config.layout.fields.map(\.name),
                                             separator: config.layout.separator, logger: logger)
            for s in try ds.resolveStarts(d, checkpoint: savedOffsets, cursors: savedCursors, fineTune: fineTuneOffsets) {
                logger.info("input datahub \(d.project)/\(d.topic) shard \(s.partition) starts at sequence \(s.offset) (\(s.rule.rawValue))")
                positions[s.partition] = s.offset
            }
            source = ds
        } else if !proto.trainInputPath.isEmpty {
            let paths = try FileSampleSource.expand(proto.trainInputPath)
            let format: FileSampleSource.Format
            if proto.dataConfig.inputType == .rtpinput {
                let cols = proto.dataConfig.selectedCols.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                format = .rtp(columnSeparator: proto.dataConfig.rtpSeparator, selectedColumns: cols.isEmpty ? nil : cols, layout: config.layout)
            } else {
                format = .csv
            }
            source = FileSampleSource(paths: paths, format: format, repeating: proto.trainConfig.numSteps > 0)
            logger.info("input: \(paths.count) file(s) from train_input_path")
        } else {
            throw TrainerError.config(field: "kafka_train_input / train_input_path", reason: "the config names no training input")
        }
        defer { kafkaSource?.close() }

        // Incremental updates.
        var saver: IncrementalSaver?
        var kafkaSink: KafkaUpdateSink?
        if let incr = config.incremental {
            let sink: any UpdateSink
            switch incr.target {
            case .kafka(let server, let topic):
                let s = try KafkaUpdateSink(server: server, topic: topic, logger: logger)
                kafkaSink = s
                sink = s
            case .fs(let dir):
                sink = try FileUpdateSink(directory: dir)
            }
            let debug = incr.settings.debugSaveUpdate
                ? try DebugUpdateWriter(directory: (modelDir as NSString).appendingPathComponent("debug_updates")) : nil
            saver = IncrementalSaver(spec: config.spec, settings: incr.settings, sink: sink, debug: debug,
                                     step: model.globalStep, time: Date().timeIntervalSince1970, logger: logger)
            logger.info("incremental updates to \(sink.description)")
        }
        defer { kafkaSink?.close() }

        var settings = config.trainingSettings
        settings.incremental = config.incremental?.settings
        settings.sampleLogPath = options.sampleLogPath
        settings.stopFileInterval = options.stopFileInterval
        let session = TrainingSession(spec: config.spec, settings: settings, model: model, source: source,
                                      encoder: config.encoder, layout: config.layout, saver: saver, checkpoints: store,
                                      auc: StreamingAUC(), positions: positions, logger: logger)
        let summary = try session.run()
        logger.info("done: \(summary.reason.rawValue) at step \(summary.globalStep), \(summary.samplesTrained) samples in \(String(format: "%.1f", summary.seconds)) s (\(String(format: "%.0f", summary.samplesPerSecond)) samples/s), \(summary.badSamples) bad, \(summary.updateMessages) update messages")
        return summary
    }
}

extension TrainerConfig {
    /// The optimizer of `train_config.optimizer_config[0]`.
    public func optimizerSettings() throws -> OptimizerSettings {
        guard let o = pipeline.proto.trainConfig.optimizerConfig.first, let which = o.optimizer else {
            throw TrainerError.config(field: "train_config.optimizer_config", reason: "no optimizer configured")
        }
        func schedule(_ lr: EasyRec_LearningRate, _ field: String) throws -> LearningRateSchedule {
            switch lr.learningRate {
            case .constantLearningRate(let c)?: return .constant(c.learningRate)
            case .exponentialDecayLearningRate(let e)?:
                guard e.decaySteps > 0 else { throw TrainerError.config(field: field + ".exponential_decay_learning_rate.decay_steps", reason: "must be positive") }
                return .exponentialDecay(initial: e.initialLearningRate, decaySteps: Int(e.decaySteps), decayFactor: e.decayFactor,
                                         staircase: e.staircase, minimum: e.minLearningRate)
            default: return .constant(0.002)
            }
        }
        switch which {
        case .adamOptimizer(let a):
            return OptimizerSettings(kind: .adam(beta1: a.beta1, beta2: a.beta2, epsilon: 1e-8),
                                     learningRate: try schedule(a.learningRate, "train_config.optimizer_config.adam_optimizer.learning_rate"))
        case .adagradOptimizer(let a):
            return OptimizerSettings(kind: .adagrad(initialAccumulator: a.initialAccumulatorValue),
                                     learningRate: try schedule(a.learningRate, "train_config.optimizer_config.adagrad_optimizer.learning_rate"))
        case .momentumOptimizer(let m):
            return OptimizerSettings(kind: .momentum(momentum: m.momentumOptimizerValue),
                                     learningRate: try schedule(m.learningRate, "train_config.optimizer_config.momentum_optimizer.learning_rate"))
        }
    }
}

extension TrainableDeepFM: TrainingModel {}
extension StreamingAUC: AUCTracker {}
