/// The loop settings of one training run (from `train_config` / `data_config`).
public struct TrainingSettings: Sendable {
    public var batchSize: Int
    /// Stop at this global step (0: run until stopped or the input ends).
    public var numSteps: Int
    public var saveCheckpointsSteps: Int?
    public var saveCheckpointsSeconds: Double?
    public var keepCheckpointMax: Int
    public var logStepCountSteps: Int
    /// Unix seconds of `dead_line`.
    public var deadline: Double?
    /// Seconds between looks for `OSS_STOP_SIGNAL`.
    public var stopFileInterval: Double
    /// Incremental saving, when `incr_save_config` has a target.
    public var incremental: IncrementalSaveSettings?
    /// Append `<partition>\t<offset>\t<key>` of every trained sample to this file (tests, debugging).
    public var sampleLogPath: String?

    public init(batchSize: Int = 32, numSteps: Int = 0, saveCheckpointsSteps: Int? = 1000, saveCheckpointsSeconds: Double? = nil,
                keepCheckpointMax: Int = 10, logStepCountSteps: Int = 10, deadline: Double? = nil,
                stopFileInterval: Double = 2, incremental: IncrementalSaveSettings? = nil, sampleLogPath: String? = nil) {
        self.batchSize = batchSize
        self.numSteps = numSteps
        self.saveCheckpointsSteps = saveCheckpointsSteps
        self.saveCheckpointsSeconds = saveCheckpointsSeconds
        self.keepCheckpointMax = keepCheckpointMax
        self.logStepCountSteps = logStepCountSteps
        self.deadline = deadline
        self.stopFileInterval = stopFileInterval
        self.incremental = incremental
        self.sampleLogPath = sampleLogPath
    }
}

/// What a finished run did.
public struct TrainingSummary: Sendable, Equatable {
    public var reason: StopReason
    public var globalStep: Int
    /// Steps trained by this run (not restored ones).
    public var stepsTrained: Int
    public var samplesTrained: Int
    public var badSamples: Int
    public var updateMessages: Int
    public var updateBytes: Int
    public var checkpoints: Int
    public var seconds: Double
    /// Last consumed offset per input partition at the end.
    public var positions: [Int32: Int64]

    public var samplesPerSecond: Double { seconds > 0 ? Double(samplesTrained) / seconds : 0 }
}
