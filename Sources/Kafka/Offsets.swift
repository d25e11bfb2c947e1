/// A start position in a partition.
public enum KafkaOffset: Sendable, Equatable {
    /// The oldest offset the broker still holds.
    case beginning
    /// The next offset to be written (only new messages).
    case end
    /// The consumer group's committed offset (falls back to `autoOffsetReset` when none).
    case committed
    /// An absolute offset.
    case offset(Int64)

    var rawValue: Int64 {
        switch self {
        case .beginning: return -2      // RD_KAFKA_OFFSET_BEGINNING
        case .end: return -1            // RD_KAFKA_OFFSET_END
        case .committed: return -1000   // RD_KAFKA_OFFSET_STORED
        case .offset(let o): return o
        }
    }
}

/// A topic and partition.
public struct TopicPartition: Sendable, Hashable {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
}

/// A partition and where to start reading it.
public struct PartitionAssignment: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: KafkaOffset

    public init(topic: String, partition: Int32, offset: KafkaOffset) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// Low and high watermark of a partition: `low` is the oldest held offset, `high` the next
/// offset to be written (`high - low` messages are held).
public struct Watermarks: Sendable, Equatable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}
