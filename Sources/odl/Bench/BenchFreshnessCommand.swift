import ArgumentParser
import Bench

/// `odl bench freshness`: the arguments of ``FreshnessBench``.
struct BenchFreshnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freshness",
        abstract: "Update-to-prediction latency vs a bare consumer's produce-to-consume latency; prints JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Update topic the processor consumes.")
    var topic: String
    @Option(name: .long, help: "Partition to write.")
    var partition: Int32 = 0
    @Option(name: .long, help: "The export the processor serves (FG bench model).")
    var export: String
    @Option(name: .long, help: "Processor base URL, http://HOST:PORT.")
    var url: String
    @Option(name: .long, help: "Trials.")
    var trials: Int = 50
    @Option(name: .long, help: "Pause between trials, ms.")
    var pauseMs: Int = 30
    @Option(name: .long, help: "First global step (above any step already on the topic).")
    var startStep: Int = 1_000_000
    @Option(name: .long, help: "Give up on one trial after this many seconds.")
    var timeout: Double = 5

    func run() throws {
        try FreshnessBench(bootstrap: bootstrap, topic: topic, partition: partition, export: export, url: url,
                           trials: trials, pauseMs: pauseMs, startStep: startStep, timeout: timeout).run()
    }
}
