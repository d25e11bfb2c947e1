/// One record header: a key and optional bytes.
public struct KafkaHeader: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header with a UTF-8 string value.
    public init(_ key: String, _ value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}

/// How a message timestamp was assigned.
public enum TimestampType: Sendable, Equatable {
    case notAvailable, createTime, logAppendTime
}

/// A consumed record. `timestamp` is in milliseconds since the epoch.
public struct KafkaMessage: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    public var timestamp: Int64?
    public var timestampType: TimestampType

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [KafkaHeader], timestamp: Int64?, timestampType: TimestampType) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.timestampType = timestampType
    }

    /// The first header with this key, if any.
    public func header(_ key: String) -> [UInt8]? {
        headers.first { $0.key == key }?.value ?? nil
    }
}

/// What `Consumer.poll` yields: a message, the end of a partition (caught up), or an error
/// (e.g. `isOffsetOutOfRange`: the requested data was dropped — report the gap).
public enum ConsumerEvent: Sendable, Equatable {
    case message(KafkaMessage)
    /// Reached the end of the partition; `offset` is the next offset that will be written.
    case partitionEOF(topic: String, partition: Int32, offset: Int64)
    case error(KafkaError)

    /// The message, when this event is one.
    public var message: KafkaMessage? {
        if case .message(let m) = self { return m }
        return nil
    }
}
