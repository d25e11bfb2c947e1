import Foundation
import Kafka
import Trainer

/// `odl bench create-topics`: creates topics on a broker through CreateTopics with the update
/// topic's EasyRec settings (a real broker does not auto-create a topic a consumer asks for).
package struct CreateTopicsBench {
    package var bootstrap: String
    /// `NAME:PARTITIONS` each.
    package var topics: [String]

    package init(bootstrap: String, topics: [String]) {
        self.bootstrap = bootstrap
        self.topics = topics
    }

    package func run() throws {
        guard !topics.isEmpty else { throw BenchError("give at least one --topic NAME:PARTITIONS") }
        let specs = try topics.map(RealBroker.parseTopicSpec)
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
