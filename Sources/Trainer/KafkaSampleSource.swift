#if canImport(Kafka)
import Foundation
import Kafka
import Logging

/// `kafka_train_input`: consumes the sample topic from explicit start offsets (assign, no
/// group join) and commits progress to the consumer group.
public final class KafkaSampleSource: SampleSource {
    public let topic: String
    public let group: String
    let consumer: Consumer
    let logger: Logger
    private var assigned: [Int32]

    /// Connects to `server` with the group `group` (commits only) and the raw librdkafka `settings`.
    public init(server: String, topic: String, group: String, settings: [String: String], logger: Logger) throws {
        var config = ConsumerConfig(bootstrap: server, groupID: group.isEmpty ? nil : group, settings: settings)
        config.enablePartitionEOF = false
        config.fetchWaitMaxMs = 50
        do {
            consumer = try Consumer(config)
        } catch {
            throw TrainerError.input(source: "kafka \(server) topic \(topic)", reason: "\(error)")
        }
        self.topic = topic
        self.group = group
        self.logger = logger
        self.assigned = []
    }

    /// Partition ids of the topic.
    public func partitions() throws -> [Int32] {
        do {
            let n = try consumer.partitionCount(topic: topic, timeout: .seconds(10))
            return (0..<Int32(n)).map { $0 }
        } catch {
            throw TrainerError.input(source: "kafka topic \(topic)", reason: "cannot read partitions: \(error)")
        }
    }

    /// First offset with timestamp >= `unixMillis` (end offset when none) for `partition`; results are cached per time.
    public func offsetForTime(partition: Int32, unixMillis: Int64) throws -> Int64 {
        if let cached = timeCache[unixMillis] { return cached[partition] ?? 0 }
        do {
            let all = try consumer.offsetsForTimes(topic: topic, timestamp: unixMillis)
            timeCache[unixMillis] = all
            return all[partition] ?? 0
        } catch {
            throw TrainerError.input(source: "kafka topic \(topic)", reason: "offsets for time \(unixMillis) failed: \(error)")
        }
    }
    private var timeCache: [Int64: [Int32: Int64]] = [:]

    /// Starts consuming at the resolved start offsets.
    public func start(_ starts: [PartitionStart]) throws {
        do {
            try consumer.assign(starts.map { PartitionAssignment(topic: topic, partition: $0.partition, offset: .offset($0.offset)) })
        } catch {
            throw TrainerError.input(source: "kafka topic \(topic)", reason: "assign failed: \(error)")
        }
        assigned = starts.map(\.partition)
    }

    public var isExhausted: Bool { false }
    public var hasOffsets: Bool { true }

    public func poll(maxRecords: Int, timeout: Double) throws -> [SampleRecord] {
        let events = consumer.poll(maxMessages: maxRecords, timeout: .milliseconds(Int(timeout * 1000)))
        var out: [SampleRecord] = []
        out.reserveCapacity(events.count)
        for e in events {
            switch e {
            case .message(let m):
                out.append(SampleRecord(partition: m.partition, offset: m.offset, key: m.key, value: m.value))
            case .partitionEOF:
                continue
            case .error(let err):
                if err.isOffsetOutOfRange, let p = err.partition {
                    // The requested offset is gone (retention): report the gap and continue from the oldest kept.
                    let low = (try? consumer.watermarks(topic: topic, partition: p).low) ?? 0
                    logger.error("kafka topic \(topic) partition \(p): offset \(err.offset.map(String.init) ?? "?") no longer available; samples lost up to \(low), continuing there")
                    try? consumer.seek(topic: topic, partition: p, offset: .offset(low))
                } else {
                    logger.warning("kafka topic \(topic): \(err)")
                }
            }
        }
        return out
    }

    public func lag(positions: [Int32: Int64]) -> Int64? {
        var total: Int64 = 0
        for p in assigned {
            guard let w = try? consumer.watermarks(topic: topic, partition: p, timeout: .seconds(1)) else { return nil }
            let next = (positions[p] ?? -1) + 1
            total += max(0, w.high - next)
        }
        return total
    }

    public func commit(positions: [Int32: Int64]) {
        guard !group.isEmpty, !positions.isEmpty else { return }
        var offsets: [TopicPartition: Int64] = [:]
        for (p, o) in positions { offsets[TopicPartition(topic: topic, partition: p)] = o + 1 }
        do {
            try consumer.commit(offsets)
        } catch {
            logger.warning("commit to group \(group) failed: \(error)")
        }
    }

    public func describe(_ record: SampleRecord) -> String {
        "topic \(topic) partition \(record.partition) offset \(record.offset)"
    }

    public func close() { consumer.close() }
}
#endif
