import Foundation
import Kafka

/// The broker of an in-process Kafka I/O test: librdkafka's embedded cluster or a real broker process.
final class TestBroker: Sendable {
    let embedded: EmbeddedBroker?
    let real: RealBroker?
    let bootstrap: String

    /// Starts the broker; `topics` (`NAME:PARTITIONS`) are created up front.
    init(_ kind: BrokerKind, topics: [String] = []) throws {
        try BrokerKind.checkSelection()
        switch kind {
        case .embedded:
            let b = try EmbeddedBroker()
            for spec in topics {
                let t = try RealBroker.parseTopicSpec(spec)
                try b.createTopic(name: t.name, partitions: t.partitions)
            }
            embedded = b
            real = nil
            bootstrap = b.bootstrap
        case .real:
            // No time retention: tests stamp samples with historic times (the embedded broker keeps everything).
            let b = try RealBroker(topicSpecs: topics, topicConfig: RealBroker.noTimeRetention)
            embedded = nil
            real = b
            bootstrap = b.bootstrap
        }
    }

    func close() {
        embedded?.close()
        real?.close()
    }
}
