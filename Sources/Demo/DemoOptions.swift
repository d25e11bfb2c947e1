/// Settings of one `odl demo` run.
package struct DemoOptions: Sendable {
    package var workDir = "demo-out"
    /// Folder with pipeline.config and fg.json of the demo model.
    package var modelDir = "models/demo"
    package var odlBinary: String?
    package var world = WorldConfig()
    /// Passes over yesterday's samples (one fixed shuffle of them) for the offline base.
    package var epochs = 5
    package var baseBatchSize = 128
    /// The online trainer's batch size (from the config), to relate model steps to samples.
    package var onlineBatchSize = 32
    /// Steps between the online trainer's dense updates (the live model trails by up to this).
    package var onlineSaveSteps = 10
    /// Samples per second streamed to the sample topic.
    package var rate = 300.0
    /// Pages scored, then produced, per step of the stream.
    package var chunkPages = 10
    /// Pages per point of the AUC-over-time chart.
    package var windowPages = 400
    /// Requests re-scored after the kill -9 restart.
    package var restartRequests = 50
    /// Live must beat static on new items by at least this AUC margin.
    package var requiredMargin = 0.02
    package var sampleTopic = "demo_samples"
    /// The online trainer's sample input: "kafka" (the sample topic) or "datahub" (a BLOB topic on `odl datahub`).
    package var input = "kafka"
    package var datahubProject = "demo"
    package var updateTopic = "demo_updates"

    package init() {}
}
