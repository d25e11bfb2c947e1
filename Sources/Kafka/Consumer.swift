import CRdKafka
import Foundation
import Synchronization

/// A Kafka consumer reading explicitly assigned partitions (no group rebalancing); commits to a
/// group when `groupID` is set. All calls block: run `poll` on a dedicated Thread, never on the
/// Swift concurrency pool. Thread-safe; `close()` (or deinit) releases everything.
public final class Consumer: Sendable {
    let handle: ClientHandle
    let config: ConsumerConfig
    /// The last successful assignment (for seek's recovery path).
    private let assignment = Mutex<[PartitionAssignment]>([])

    public init(_ config: ConsumerConfig) throws(KafkaError) {
        let conf = try KafkaConf.make(config.librdkafkaSettings, operation: "consumer config")
        let rk = try KafkaConf.newHandle(RD_KAFKA_CONSUMER, conf, operation: "consumer create")
        _ = rd_kafka_poll_set_consumer(rk)
        handle = ClientHandle(rk)
        self.config = config
    }

    deinit { close() }

    /// Replaces the whole assignment: read exactly these partitions from these offsets.
    /// `.beginning` / `.end` are resolved to absolute offsets from the watermarks when the broker
    /// answers (librdkafka's own logical-offset lookup costs ~0.5 s per fresh assignment).
    public func assign(_ assignments: [PartitionAssignment]) throws(KafkaError) {
        let list = PartitionList(capacity: assignments.count)
        var resolve = true
        var resolved: [PartitionAssignment] = []
        for a in assignments {
            var offset = a.offset.rawValue
            if resolve && (a.offset == .beginning || a.offset == .end) {
                if let marks = try? watermarks(topic: a.topic, partition: a.partition, timeout: .seconds(2)) {
                    offset = a.offset == .beginning ? marks.low : marks.high
                } else {
                    resolve = false   // broker unreachable: let librdkafka resolve them once it is back
                }
            }
            list.add(a.topic, a.partition, offset: offset)
            resolved.append(PartitionAssignment(topic: a.topic, partition: a.partition,
                                                offset: offset == a.offset.rawValue ? a.offset : .offset(offset)))
        }
        let err = try handle.use("assign") { rk in rd_kafka_assign(rk, assignments.isEmpty ? nil : list.list) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, operation: "assign", topic: assignments.first?.topic)
        }
        assignment.withLock { $0 = resolved }
    }

    /// Waits up to `timeout` for the first event, then takes whatever else is ready without
    /// waiting, up to `maxMessages` events in total. Blocking: call it from a dedicated Thread,
    /// never from the Swift concurrency pool. On a closed consumer it returns one `.error` ("_DESTROY").
    public func poll(maxMessages: Int, timeout: Duration) -> [ConsumerEvent] {
        var out: [ConsumerEvent] = []
        do {
            try handle.use("poll") { rk in
                var wait = Int32(timeout.kafkaMilliseconds)
                while out.count < maxMessages {
                    guard let m = rd_kafka_consumer_poll(rk, wait) else { break }
                    wait = 0
                    out.append(MessageDecoding.event(m))
                    rd_kafka_message_destroy(m)
                }
            }
        } catch {
            out.append(.error(error))
        }
        return out
    }

    /// The partition's low and high watermark, asked of the broker.
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(5)) throws(KafkaError) -> Watermarks {
        var low: Int64 = -1, high: Int64 = -1
        let err = try handle.use("watermarks", topic: topic) { rk in
            rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, Int32(timeout.kafkaMilliseconds))
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, operation: "watermarks", topic: topic, partition: partition)
        }
        return Watermarks(low: low, high: high)
    }

    /// Moves an assigned partition's read position. Also recovers a partition stopped by an
    /// error (e.g. offset out of range), by re-assigning it at `offset`.
    public func seek(topic: String, partition: Int32, offset: KafkaOffset, timeout: Duration = .seconds(5)) throws(KafkaError) {
        let list = PartitionList(capacity: 1)
        list.add(topic, partition, offset: offset.rawValue)
        var failure: KafkaError?
        if let error = try handle.use("seek", topic: topic, { rk in
            rd_kafka_seek_partitions(rk, list.list, Int32(timeout.kafkaMilliseconds))
        }) {
            failure = KafkaError(consuming: error, operation: "seek", topic: topic, partition: partition)
        }
        for e in list.elements where e.err != RD_KAFKA_RESP_ERR_NO_ERROR && failure == nil {
            failure = KafkaError(e.err, operation: "seek", topic: topic, partition: partition, offset: offset.rawValue)
        }
        guard let failure else { return }
        // A partition whose fetcher is not started yet (_STATE), or a seek that could not be
        // confirmed in time on a loaded machine (_TIMED_OUT), is re-assigned at the offset
        // instead: assign needs no broker round trip.
        guard failure.code == RD_KAFKA_RESP_ERR__STATE.rawValue || failure.isTimedOut else { throw failure }
        try reassign(topic: topic, partition: partition, offset: offset)
    }

    /// Re-assigns the current assignment with `offset` for one partition; the others continue
    /// from their current position (or their assigned offset when nothing was read yet).
    private func reassign(topic: String, partition: Int32, offset: KafkaOffset) throws(KafkaError) {
        let current = assignment.withLock { $0 }
        guard current.contains(where: { $0.topic == topic && $0.partition == partition }) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, operation: "seek",
                             message: "partition is not assigned", topic: topic, partition: partition)
        }
        let list = PartitionList(capacity: current.count)
        for a in current { list.add(a.topic, a.partition, offset: -1001) }
        let err = try handle.use("seek", topic: topic) { rk in rd_kafka_position(rk, list.list) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "seek (position)", topic: topic) }
        var positions: [TopicPartition: Int64] = [:]
        for e in list.elements where e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0 {
            positions[TopicPartition(topic: e.topic, partition: e.partition)] = e.offset
        }
        let updated = current.map { a -> PartitionAssignment in
            var a = a
            if a.topic == topic && a.partition == partition {
                a.offset = offset
            } else if let pos = positions[TopicPartition(topic: a.topic, partition: a.partition)] {
                a.offset = .offset(pos)
            }
            return a
        }
        try assign(updated)
    }

    /// Commits synchronously; `nextOffset` is the offset of the next message to read
    /// (last processed + 1). Needs `groupID`.
    public func commit(topic: String, partition: Int32, nextOffset: Int64) throws(KafkaError) {
        try commit([TopicPartition(topic: topic, partition: partition): nextOffset])
    }

    /// Commits several partitions synchronously (values: next offset to read).
    public func commit(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard config.groupID != nil else {
            throw KafkaError.invalid("commit needs a group id (ConsumerConfig.groupID)", operation: "commit",
                                     topic: offsets.keys.first?.topic)
        }
        guard !offsets.isEmpty else { return }
        let list = PartitionList(capacity: offsets.count)
        for (tp, off) in offsets { list.add(tp.topic, tp.partition, offset: off) }
        let err = try handle.use("commit") { rk in rd_kafka_commit(rk, list.list, 0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, operation: "commit", topic: offsets.keys.first?.topic)
        }
        for e in list.elements where e.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(e.err, operation: "commit", topic: e.topic, partition: e.partition, offset: e.offset)
        }
    }

    /// The group's committed offsets (next offset to read); partitions without one are absent.
    public func committed(topic: String, partitions: [Int32], timeout: Duration = .seconds(5)) throws(KafkaError) -> [Int32: Int64] {
        guard config.groupID != nil else {
            throw KafkaError.invalid("committed needs a group id (ConsumerConfig.groupID)", operation: "committed", topic: topic)
        }
        let list = PartitionList(capacity: partitions.count)
        for p in partitions { list.add(topic, p, offset: -1001) }
        let err = try handle.use("committed", topic: topic) { rk in
            rd_kafka_committed(rk, list.list, Int32(timeout.kafkaMilliseconds))
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "committed", topic: topic) }
        var out: [Int32: Int64] = [:]
        for e in list.elements {
            if e.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(e.err, operation: "committed", topic: topic, partition: e.partition)
            }
            if e.offset >= 0 { out[e.partition] = e.offset }
        }
        return out
    }

    /// Number of partitions of `topic` from the cluster metadata (a broker that auto-creates
    /// topics creates it).
    public func partitionCount(topic: String, timeout: Duration = .seconds(5)) throws(KafkaError) -> Int {
        try handle.use("metadata", topic: topic) { rk throws(KafkaError) -> Int in
            guard let rkt = rd_kafka_topic_new(rk, topic, nil) else {
                throw KafkaError.invalid("bad topic name", operation: "metadata", topic: topic)
            }
            defer { rd_kafka_topic_destroy(rkt) }
            var md: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk, 0, rkt, &md, Int32(timeout.kafkaMilliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else {
                throw KafkaError(err, operation: "metadata", topic: topic)
            }
            defer { rd_kafka_metadata_destroy(md) }
            guard md.pointee.topic_cnt > 0, let t = md.pointee.topics?.pointee else {
                throw KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, operation: "metadata", topic: topic)
            }
            if t.err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(t.err, operation: "metadata", topic: topic) }
            return Int(t.partition_cnt)
        }
    }

    /// Leaves any group, drops the assignment and destroys the client. Idempotent.
    public func close() {
        handle.shutdown { rk in
            _ = rd_kafka_consumer_close(rk)
            rd_kafka_destroy(rk)
        }
    }
}
