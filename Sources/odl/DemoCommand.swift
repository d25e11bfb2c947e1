import ArgumentParser
import Demo
import Foundation

/// `odl demo`: runs the end-to-end online-learning demo with real processes and writes a report.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "End-to-end demo: broker, offline base, static vs live processors, streaming trainer, kill -9 replay, report.",
        discussion: """
        Exits 0 when the live processor beats the static one on items born today by at least \
        --min-margin AUC and a kill -9 restart reproduces its predictions exactly; 1 otherwise.
        """)

    @Option(help: "Work directory (emptied first): world, configs, checkpoints, export, logs, report.html.")
    var workDir: String = "demo-out"

    @Option(help: "Folder with the demo model's pipeline.config and fg.json.")
    var modelDir: String = "models/demo"

    @Option(help: "The odl binary to run (default: this executable).")
    var odl: String?

    @Option(help: "World seed.")
    var seed: UInt64 = 7

    @Option(help: "Page views yesterday (5 items each): the offline base's data.")
    var yesterdayPages: Int = WorldConfig().yesterdayPages

    @Option(help: "Page views today: streamed and scored.")
    var todayPages: Int = WorldConfig().todayPages

    @Option(help: "Passes over yesterday (shuffled once) for the base.")
    var epochs: Int = DemoOptions().epochs

    @Option(help: "Samples per second produced to the sample topic.")
    var rate: Double = 300

    @Option(help: "Pages scored then produced per stream step.")
    var chunkPages: Int = 10

    @Option(help: "The online trainer's sample input: kafka (the embedded broker) or datahub (odl datahub, a BLOB topic).")
    var input: String = "kafka"

    @Option(help: "Minimum AUC margin of live over static on items born today.")
    var minMargin: Double = 0.02

    func validate() throws {
        guard rate > 0 else { throw ValidationError("--rate must be > 0") }
        guard chunkPages > 0 else { throw ValidationError("--chunk-pages must be > 0") }
        guard epochs > 0 else { throw ValidationError("--epochs must be > 0") }
    }

    func run() async throws {
        var options = DemoOptions()
        options.workDir = workDir
        options.modelDir = modelDir
        options.odlBinary = odl
        options.world.seed = seed
        options.world.yesterdayPages = yesterdayPages
        options.world.todayPages = todayPages
        options.epochs = epochs
        options.rate = rate
        options.chunkPages = chunkPages
        options.requiredMargin = minMargin
        guard ["kafka", "datahub"].contains(input) else { throw ValidationError("--input must be kafka or datahub, got \(input)") }
        options.input = input
        options.windowPages = max(chunkPages, todayPages / 10)
        let code = try await DemoRun(options: options).run()
        if code != 0 { throw ExitCode(code) }
    }
}
