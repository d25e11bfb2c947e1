import CRdKafka

/// A consumed message whose key and value are borrowed from librdkafka's buffer: valid only
/// inside the body given to ``Consumer/poll(maxMessages:timeout:messages:)``. Copy anything
/// that must outlive the call (``copied(topic:)``).
public struct BorrowedMessage {
    public let partition: Int32
    public let offset: Int64
    public let key: UnsafeRawBufferPointer?
    public let value: UnsafeRawBufferPointer
    /// Milliseconds since the epoch, when the message carries a timestamp.
    public let timestamp: Int64?
    public let timestampType: TimestampType

    init(_ m: UnsafeMutablePointer<rd_kafka_message_t>) {
        let msg = m.pointee
        partition = msg.partition
        offset = msg.offset
        key = msg.key.map { UnsafeRawBufferPointer(start: $0, count: msg.key_len) }
        value = UnsafeRawBufferPointer(start: msg.payload, count: msg.payload == nil ? 0 : msg.len)
        let (ts, type) = MessageDecoding.timestamp(m)
        timestamp = ts
        timestampType = type
    }

    /// An owned copy (headers are not included: read them with the copying `poll`).
    public func copied(topic: String) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: partition, offset: offset, key: key.map { Array($0) }, value: Array(value),
                     headers: [], timestamp: timestamp, timestampType: timestampType)
    }
}

extension Consumer {
    /// Like ``poll(maxMessages:timeout:)``, but hands each message to `messages` without copying
    /// its bytes (they are valid only during that call); returns the other events (partition
    /// ends, errors) in order, for the caller to handle after the batch. `messages` must not
    /// close this consumer.
    public func poll(maxMessages: Int, timeout: Duration, messages: (BorrowedMessage) -> Void) -> [ConsumerEvent] {
        var other: [ConsumerEvent] = []
        do {
            try handle.use("poll") { rk in
                var wait = Int32(timeout.kafkaMilliseconds)
                var taken = 0
                while taken < maxMessages {
                    guard let m = rd_kafka_consumer_poll(rk, wait) else { break }
                    defer { rd_kafka_message_destroy(m) }
                    wait = 0
                    taken += 1
                    if m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        messages(BorrowedMessage(m))
                    } else {
                        other.append(MessageDecoding.event(m))
                    }
                }
            }
        } catch {
            other.append(.error(error))
        }
        return other
    }
}
