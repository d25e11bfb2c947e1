import ArgumentParser
import Foundation
import Logging
import Trainer

/// `odl train`: the streaming DeepFM trainer (EasyRec's `-Dcmd=train`).
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train DeepFM from a Kafka topic or files, publishing incremental updates.",
        discussion: """
        Reads an EasyRec pipeline config (protobuf text). Resumes from the latest checkpoint in \
        model_dir; stops on num_steps, dead_line, SIGTERM/SIGINT or model_dir/OSS_STOP_SIGNAL, \
        always after a final update pair and checkpoint (exit 0).
        """)

    @Option(help: "Pipeline config file (EasyRec protobuf text format).")
    var config: String

    @Option(name: .customLong("model-dir"), help: "Overrides model_dir of the config.")
    var modelDir: String?

    @Option(name: .customLong("edit-config-json"), help: "JSON object of dotted config paths to new values.")
    var editConfigJson: String?

    @Option(help: ArgumentHelp("Seed of the initial parameters.", visibility: .hidden))
    var seed: UInt64 = 2026

    @Option(name: .customLong("sample-log"), help: ArgumentHelp("Append partition/offset/key of every trained sample to this file.", visibility: .hidden))
    var sampleLog: String?

    @Option(name: .customLong("stop-check-secs"), help: ArgumentHelp("Seconds between looks for OSS_STOP_SIGNAL.", visibility: .hidden))
    var stopCheckSecs: Double = 2

    @Option(name: .customLong("log-format"), help: "Log line format on stderr: text, or json (one object per line).")
    var logFormat: LogFormat = .text

    @OptionGroup var storage: StorageFlags

    func run() async throws {
        logFormat.bootstrap()
        storage.apply()
        TerminationSignals.install()
        let options = TrainOptions(configPath: config, modelDir: modelDir, editConfigJSON: editConfigJson, seed: seed,
                                   sampleLogPath: sampleLog ?? ProcessInfo.processInfo.environment["ODL_TRAIN_SAMPLE_LOG"],
                                   stopFileInterval: stopCheckSecs)
        let logger = Logger(label: "odl.train")
        // The loop blocks (Kafka polls, math): run it on its own thread, never on the cooperative pool.
        _ = try await withCheckedThrowingContinuation { (cont: CheckedContinuation<TrainingSummary, any Error>) in
            let thread = Thread {
                do {
                    cont.resume(returning: try TrainerRunner.run(options, logger: logger))
                } catch {
                    cont.resume(throwing: error)
                }
            }
            thread.name = "odl-train"
            thread.stackSize = 16 << 20
            thread.start()
        }
    }
}
