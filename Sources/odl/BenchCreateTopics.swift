import ArgumentParser
import Foundation
import Kafka
import Trainer

/// `odl bench create-topics`: creates topics on a broker through CreateTopics with the update
/// topic's EasyRec settings (a real broker does not auto-create a topic a consumer asks for).
struct BenchCreateTopicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-topics",
        abstract: "Create topics (NAME:PARTITIONS) with the update topic's settings; prints what happened as JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Topic as NAME:PARTITIONS (repeatable).")
    var topic: [String] = []

    func run() throws {
        guard !topic.isEmpty else { throw BenchError("give at least one --topic NAME:PARTITIONS") }
        let specs = try topic.map(RealBroker.parseTopicSpec)
        let admin = try Admin(bootstrap: bootstrap)
        defer { admin.close() }
        var result: [String: String] = [:]
        for t in specs {
            switch try admin.createTopic(name: t.name, partitions: t.partitions, config: KafkaUpdateSink.topicConfig,
                                         timeout: .seconds(10)) {
            case .created: result[t.name] = "created"
            case .alreadyExists: result[t.name] = "exists"
            case .unsupported(let e): throw BenchError("CreateTopics \(t.name) on \(bootstrap): \(e)")
            }
        }
        try BenchSupport.emit(["topics": result])
    }
}
