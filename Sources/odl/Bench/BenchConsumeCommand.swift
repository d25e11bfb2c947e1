import ArgumentParser
import Bench

/// `odl bench consume`: the arguments of ``ConsumeBench``.
struct BenchConsumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Read all partitions of a topic from low to high watermark; prints bytes/s and the low offsets as JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Topic.")
    var topic: String

    func run() throws {
        try ConsumeBench(bootstrap: bootstrap, topic: topic).run()
    }
}
