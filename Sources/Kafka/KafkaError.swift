import CRdKafka

/// A librdkafka failure: the error code, its librdkafka name (e.g. "_MSG_TIMED_OUT"), a message,
/// and where it happened (operation, topic, partition, offset).
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// rd_kafka_resp_err_t raw value (negative: client-side errors, positive: broker errors).
    public let code: Int32
    /// librdkafka's name of the code (`rd_kafka_err2name`), e.g. "_TIMED_OUT", "OFFSET_OUT_OF_RANGE".
    public let name: String
    public let message: String
    /// What was being done: "produce", "delivery", "poll", "assign", "watermarks", "config", ...
    public let operation: String
    public let topic: String?
    public let partition: Int32?
    public let offset: Int64?

    public init(code: Int32, name: String, message: String, operation: String,
                topic: String? = nil, partition: Int32? = nil, offset: Int64? = nil) {
        self.code = code
        self.name = name
        self.message = message
        self.operation = operation
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    init(_ err: rd_kafka_resp_err_t, operation: String, message: String? = nil,
         topic: String? = nil, partition: Int32? = nil, offset: Int64? = nil) {
        self.init(code: err.rawValue, name: String(cString: rd_kafka_err2name(err)),
                  message: message ?? String(cString: rd_kafka_err2str(err)), operation: operation,
                  topic: topic, partition: partition, offset: offset)
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, operation: String, topic: String? = nil, partition: Int32? = nil) {
        let code = rd_kafka_error_code(error)
        let message = rd_kafka_error_string(error).map { String(cString: $0) }
        rd_kafka_error_destroy(error)
        self.init(code, operation: operation, message: message, topic: topic, partition: partition)
    }

    /// A configuration or argument error detected before librdkafka was asked.
    static func invalid(_ message: String, operation: String, topic: String? = nil) -> KafkaError {
        KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, operation: operation, message: message, topic: topic)
    }

    /// The client was already closed.
    static func closed(_ operation: String, topic: String? = nil) -> KafkaError {
        KafkaError(RD_KAFKA_RESP_ERR__DESTROY, operation: operation, message: "client is closed", topic: topic)
    }

    /// Client-side or broker-side timeout (including a message that could not be delivered in time).
    public var isTimedOut: Bool {
        code == RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue || code == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue
            || code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
            || code == RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE.rawValue
    }

    /// The requested offset is not (or no longer) held by the broker: data was dropped, a gap.
    public var isOffsetOutOfRange: Bool {
        code == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue || code == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET.rawValue
    }

    /// Connection-level trouble (broker down or unreachable); librdkafka keeps retrying.
    public var isTransportDown: Bool {
        code == RD_KAFKA_RESP_ERR__TRANSPORT.rawValue || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue
    }

    public var description: String {
        var where_: [String] = [operation]
        if let topic { where_.append("topic=\(topic)") }
        if let partition { where_.append("partition=\(partition)") }
        if let offset { where_.append("offset=\(offset)") }
        return "Kafka error \(name) (\(code)) during \(where_.joined(separator: " ")): \(message)"
    }
}
