/// Settings of one `odl demo` run.
struct DemoOptions: Sendable {
    var workDir = "demo-out"
    /// Folder with pipeline.config and fg.json of the demo model.
    var modelDir = "models/demo"
    var odlBinary: String?
    var world = WorldConfig()
    /// Passes over yesterday's samples (one fixed shuffle of them) for the offline base.
    var epochs = 5
    var baseBatchSize = 128
    /// The online trainer's batch size (from the config), to relate model steps to samples.
    var onlineBatchSize = 32
    /// Steps between the online trainer's dense updates (the live model trails by up to this).
    var onlineSaveSteps = 10
    /// Samples per second streamed to the sample topic.
    var rate = 300.0
    /// Pages scored, then produced, per step of the stream.
    var chunkPages = 10
    /// Pages per point of the AUC-over-time chart.
    var windowPages = 400
    /// Requests re-scored after the kill -9 restart.
    var restartRequests = 50
    /// Live must beat static on new items by at least this AUC margin.
    var requiredMargin = 0.02
    var sampleTopic = "demo_samples"
    /// The online trainer's sample input: "kafka" (the sample topic) or "datahub" (a BLOB topic on `odl datahub`).
    var input = "kafka"
    var datahubProject = "demo"
    var updateTopic = "demo_updates"
}
