import ArgumentParser
import Bench

/// `odl bench create-topics`: the arguments of ``CreateTopicsBench``.
struct BenchCreateTopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-topics",
        abstract: "Create topics (NAME:PARTITIONS) with the update topic's settings; prints what happened as JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Topic as NAME:PARTITIONS (repeatable).")
    var topic: [String] = []

    func run() throws {
        try CreateTopicsBench(bootstrap: bootstrap, topics: topic).run()
    }
}
