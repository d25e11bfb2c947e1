import CRdKafka

/// Converts a consumed `rd_kafka_message_t` into a `ConsumerEvent` (copies the bytes; the caller
/// still destroys the message).
enum MessageDecoding {
    static func event(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> ConsumerEvent {
        let msg = m.pointee
        let topic = msg.rkt.map { String(cString: rd_kafka_topic_name($0)) }
        if msg.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                return .partitionEOF(topic: topic ?? "", partition: msg.partition, offset: msg.offset)
            }
            let text = rd_kafka_message_errstr(m).map { String(cString: $0) }
            return .error(KafkaError(msg.err, operation: "poll", message: text, topic: topic,
                                     partition: topic == nil ? nil : msg.partition,
                                     offset: msg.offset >= 0 ? msg.offset : nil))
        }
        return .message(message(m, topic: topic ?? ""))
    }

    static func message(_ m: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> KafkaMessage {
        let msg = m.pointee
        let value: [UInt8] = bytes(msg.payload, msg.len) ?? []
        let key = bytes(msg.key, msg.key_len)
        let (ts, type) = timestamp(m)
        return KafkaMessage(topic: topic, partition: msg.partition, offset: msg.offset, key: key, value: value,
                            headers: headers(m), timestamp: ts, timestampType: type)
    }

    /// The message's timestamp (nil when it has none) and its type.
    static func timestamp(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> (Int64?, TimestampType) {
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &tsType)
        let type: TimestampType
        switch tsType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: type = .createTime
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: type = .logAppendTime
        default: type = .notAvailable
        }
        return (ts >= 0 && type != .notAvailable ? ts : nil, type)
    }

    private static func bytes(_ p: UnsafeRawPointer?, _ n: Int) -> [UInt8]? {
        guard let p else { return nil }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    private static func bytes(_ p: UnsafeMutableRawPointer?, _ n: Int) -> [UInt8]? {
        bytes(UnsafeRawPointer(p), n)
    }

    private static func headers(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var out: [KafkaHeader] = []
        var idx = 0
        while true {
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { break }
            out.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes(val, size)))
            idx += 1
        }
        return out
    }
}
