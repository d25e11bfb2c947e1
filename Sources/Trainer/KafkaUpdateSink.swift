#if canImport(Kafka)
import Foundation
import Kafka
import Logging

/// `incr_save_config.kafka`: every message goes to partition 0 of the update topic and counts
/// only once the broker acknowledged it; a failed delivery is retried, then fails the trainer.
public final class KafkaUpdateSink: UpdateSink {
    public let server: String
    public let topic: String
    let producer: Producer
    let logger: Logger
    let attempts: Int
    private var next: Int64?
    /// EasyRec's update-topic settings for CreateTopics (1 partition is passed separately).
    public static let topicConfig = ["max.message.bytes": "1073741824"]

    /// Creates the topic with one partition when missing (brokers without topic creation, like
    /// the embedded one, auto-create it), and learns the topic's current end offset.
    /// `adminTimeout` bounds the topic creation request (brokers without CreateTopics never answer it).
    public init(server: String, topic: String, settings: [String: String] = [:], attempts: Int = 3,
                adminTimeout: Duration = .seconds(3), logger: Logger) throws {
        self.server = server
        self.topic = topic
        self.logger = logger
        self.attempts = max(1, attempts)
        create: do {
            let admin = try Admin(bootstrap: server, settings: settings)
            defer { admin.close() }
            // An existing topic needs no CreateTopics request (which brokers without it, like the
            // embedded one, never answer: that would cost the whole admin timeout at every start).
            if try admin.topicExists(topic, timeout: adminTimeout) { break create }
            switch try admin.createTopic(name: topic, partitions: 1, config: Self.topicConfig, timeout: adminTimeout) {
            case .created: logger.info("created update topic \(topic) with 1 partition, max.message.bytes 1 GiB")
            case .alreadyExists: break
            case .unsupported(let e): logger.info("update topic \(topic) not created by admin (\(e.name)); relying on auto-creation")
            }
        } catch {
            logger.info("update topic \(topic): admin unavailable (\(error)); relying on auto-creation")
        }
        var config = ProducerConfig(bootstrap: server, settings: settings)
        config.acks = "all"
        config.idempotence = true
        config.lingerMs = 0
        do {
            producer = try Producer(config)
        } catch {
            throw TrainerError.updateDelivery(key: topic, reason: "cannot create producer for \(server): \(error)")
        }
        // Where the next message will land: the end of partition 0 now.
        if let consumer = try? Consumer(ConsumerConfig(bootstrap: server)) {
            if let w = try? consumer.watermarks(topic: topic, partition: 0, timeout: .seconds(5)) { next = w.high }
            consumer.close()
        }
    }

    public func send(key: String, value: [UInt8]) throws {
        var lastError = ""
        for attempt in 1...attempts {
            do {
                let report = try producer.sendSync(topic: topic, partition: 0, key: Array(key.utf8), value: value)
                next = report.offset + 1
                return
            } catch {
                lastError = "\(error)"
                logger.warning("update \(key) (\(value.count) bytes) to \(topic) failed (attempt \(attempt)/\(attempts)): \(error)")
                if attempt < attempts { Thread.sleep(forTimeInterval: 0.5 * Double(attempt)) }
            }
        }
        throw TrainerError.updateDelivery(key: key, reason: "topic \(topic) at \(server): \(lastError)")
    }

    public var nextOffsets: [Int32: Int64] { next.map { [0: $0] } ?? [:] }

    public var description: String { "kafka topic \(topic) at \(server)" }

    public func close() { producer.close() }
}
#endif
