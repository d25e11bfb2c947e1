import CRdKafka

extension Consumer {
    /// Per partition of `topic`, the offset of the first message whose timestamp is >= `timestamp`
    /// (ms since the epoch), or the high watermark when no such message is held.
    /// Uses ListOffsets (rd_kafka_offsets_for_times); when the broker answers -1 although the
    /// partition holds messages (the embedded broker does not implement it), binary-searches the
    /// message timestamps with a temporary reader (assumes timestamps non-decreasing by offset).
    public func offsetsForTimes(topic: String, timestamp: Int64, timeout: Duration = .seconds(10)) throws(KafkaError) -> [Int32: Int64] {
        try offsetsForTimesDetailed(topic: topic, timestamp: timestamp, timeout: timeout).offsets
    }

    /// `offsetsForTimes`, plus the partitions whose answer came from the binary search (the broker
    /// answered ListOffsets with -1 although it held messages): chosen by what the broker can do.
    func offsetsForTimesDetailed(topic: String, timestamp: Int64, timeout: Duration) throws(KafkaError) -> (offsets: [Int32: Int64], searched: Set<Int32>) {
        let count = try partitionCount(topic: topic, timeout: timeout)
        let list = PartitionList(capacity: count)
        for p in 0..<Int32(count) { list.add(topic, p, offset: timestamp) }
        let err = try handle.use("offsetsForTimes", topic: topic) { rk in
            rd_kafka_offsets_for_times(rk, list.list, Int32(timeout.kafkaMilliseconds))
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "offsetsForTimes", topic: topic) }
        var out: [Int32: Int64] = [:]
        var searched: Set<Int32> = []
        var prober: TimestampProber?
        defer { prober?.close() }
        for e in list.elements {
            if e.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(e.err, operation: "offsetsForTimes", topic: topic, partition: e.partition)
            }
            if e.offset >= 0 {
                out[e.partition] = e.offset
                continue
            }
            let marks = try watermarks(topic: topic, partition: e.partition, timeout: timeout)
            if marks.high <= marks.low {
                out[e.partition] = marks.high
                continue
            }
            if prober == nil { prober = try TimestampProber(config: config, timeout: timeout) }
            guard let prober else { continue }
            out[e.partition] = try prober.firstOffset(topic: topic, partition: e.partition, atOrAfter: timestamp, in: marks)
            searched.insert(e.partition)
        }
        return (out, searched)
    }
}

/// Reads single messages at chosen offsets to binary-search a partition by timestamp.
struct TimestampProber {
    private let reader: Consumer
    private let timeout: Duration

    init(config: ConsumerConfig, timeout: Duration) throws(KafkaError) {
        var c = config
        c.groupID = nil
        c.autoOffsetReset = .error
        c.enablePartitionEOF = true
        c.fetchWaitMaxMs = 10
        reader = try Consumer(c)
        self.timeout = timeout
    }

    func close() { reader.close() }

    /// Smallest offset in [marks.low, marks.high) whose message timestamp >= t, else marks.high.
    func firstOffset(topic: String, partition: Int32, atOrAfter t: Int64, in marks: Watermarks) throws(KafkaError) -> Int64 {
        var lo = marks.low, hi = marks.high, answer = marks.high
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            guard let (offset, ts) = try probe(topic: topic, partition: partition, at: mid) else {
                hi = mid
                continue
            }
            if let ts, ts >= t {
                answer = offset
                hi = mid
            } else {
                lo = offset + 1
            }
        }
        return answer
    }

    /// The first message at or after `offset`: its offset and timestamp; nil at the partition end.
    private func probe(topic: String, partition: Int32, at offset: Int64) throws(KafkaError) -> (Int64, Int64?)? {
        try reader.assign([PartitionAssignment(topic: topic, partition: partition, offset: .offset(offset))])
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for event in reader.poll(maxMessages: 1, timeout: .milliseconds(200)) {
                switch event {
                case .message(let m) where m.topic == topic && m.partition == partition && m.offset >= offset:
                    return (m.offset, m.timestamp)
                case .partitionEOF(let t, let p, let end) where t == topic && p == partition && end >= offset:
                    return nil
                case .error(let e) where e.partition == nil || e.partition == partition:
                    if e.isTransportDown { continue }
                    throw e
                default:
                    continue
                }
            }
        }
        throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, operation: "offsetsForTimes probe", message: "no message read within \(timeout)",
                         topic: topic, partition: partition, offset: offset)
    }
}
