import CRdKafka

extension Consumer {
    /// ListOffsets' special timestamps: the log start and the log end (librdkafka's OFFSET_BEGINNING / OFFSET_END).
    private static let earliestSpec: Int64 = -2
    private static let latestSpec: Int64 = -1

    /// Low and high watermarks of several partitions of `topic` in two ListOffsets round trips
    /// (all earliest, then all latest) instead of two per partition. A partition the broker does
    /// not answer that way (an error or a negative offset in the batch) is asked on its own
    /// (``watermarks(topic:partition:timeout:)``), so the result is the same as asking one by one.
    /// Returns one entry per element of `partitions`, in that order.
    public func watermarks(topic: String, partitions: [Int32], timeout: Duration = .seconds(5)) throws(KafkaError) -> [Watermarks] {
        guard !partitions.isEmpty else { return [] }
        let low = try listOffsets(topic: topic, partitions: partitions, spec: Self.earliestSpec, timeout: timeout)
        let high = try listOffsets(topic: topic, partitions: partitions, spec: Self.latestSpec, timeout: timeout)
        var out: [Watermarks] = []
        out.reserveCapacity(partitions.count)
        for p in partitions {
            if let l = low[p], let h = high[p], l >= 0, h >= l {
                out.append(Watermarks(low: l, high: h))
            } else {
                out.append(try watermarks(topic: topic, partition: p, timeout: timeout))
            }
        }
        return out
    }

    /// One ListOffsets request per broker for `spec` (earliest -2 or latest -1) on every
    /// partition; partitions answered with an error are left out (the caller asks them alone).
    private func listOffsets(topic: String, partitions: [Int32], spec: Int64, timeout: Duration) throws(KafkaError) -> [Int32: Int64] {
        let list = PartitionList(capacity: partitions.count)
        for p in partitions { list.add(topic, p, offset: spec) }
        let err = try handle.use("watermarks", topic: topic) { rk in
            rd_kafka_offsets_for_times(rk, list.list, Int32(timeout.kafkaMilliseconds))
        }
        var out: [Int32: Int64] = [:]
        // A whole-request failure: every partition falls back to its own query, which names the error.
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return out }
        for e in list.elements where e.err == RD_KAFKA_RESP_ERR_NO_ERROR && e.topic == topic {
            out[e.partition] = e.offset
        }
        return out
    }
}
