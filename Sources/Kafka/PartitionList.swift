import CRdKafka

/// An owned `rd_kafka_topic_partition_list_t`, destroyed when the value dies.
final class PartitionList {
    let list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(capacity: Int) {
        list = rd_kafka_topic_partition_list_new(Int32(clamping: max(1, capacity)))
    }

    deinit { rd_kafka_topic_partition_list_destroy(list) }

    func add(_ topic: String, _ partition: Int32, offset: Int64) {
        let elem = rd_kafka_topic_partition_list_add(list, topic, partition)
        elem?.pointee.offset = offset
    }

    /// (topic, partition, offset, err) of every element.
    var elements: [(topic: String, partition: Int32, offset: Int64, err: rd_kafka_resp_err_t)] {
        let n = Int(list.pointee.cnt)
        guard n > 0, let elems = list.pointee.elems else { return [] }
        return (0..<n).map { i in
            let e = elems[i]
            return (e.topic.map { String(cString: $0) } ?? "", e.partition, e.offset, e.err)
        }
    }
}
