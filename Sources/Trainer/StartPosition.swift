import Config
import Foundation

/// Which rule of trainer.md ("Inputs") chose a partition's start offset.
public enum StartRule: String, Sendable, Equatable {
    /// The latest checkpoint's `.offset` in model_dir (restart after a failure).
    case checkpoint
    /// The `.offset` of `fine_tune_checkpoint` (model_dir had no checkpoint).
    case fineTuneCheckpoint
    /// `offset_info: {"<partition>": <offset>}`.
    case offsetInfo
    /// `offset_info: {"timestamp": s}` or `offset_time`: first message at or after the time.
    case timestamp
    /// Nothing configured: offset 0.
    case beginning
}

/// Where one partition starts and why.
public struct PartitionStart: Sendable, Equatable {
    public var partition: Int32
    public var offset: Int64
    public var rule: StartRule

    public init(partition: Int32, offset: Int64, rule: StartRule) {
        self.partition = partition
        self.offset = offset
        self.rule = rule
    }
}

/// The parsed `offset_info` / `offset_time` settings of a `kafka_train_input`.
public enum OffsetSpec: Sendable, Equatable {
    case none
    case partitions([Int32: Int64])
    /// Unix time in milliseconds.
    case timestamp(Int64)

    /// From the Config module's parsed `offset_info` / `offset_time` (nil: neither set).
    public init(_ position: KafkaStartPosition?) {
        switch position {
        case .partitionOffsets(let p)?: self = .partitions(p)
        case .timestamp(let seconds)?: self = .timestamp(seconds * 1000)
        case nil: self = .none
        }
    }
}

/// The start-position rules of trainer.md as a pure function.
public enum StartPosition {
    /// Resolves the start offset of every consumed partition.
    ///
    /// Partitions consumed: those named by `offset_info` partitions, else all of `topicPartitions`.
    /// Per partition, in order: `checkpoint` (model_dir's latest `.offset`), `fineTune` (only
    /// when `checkpoint` is nil), `offset_info` partition offset, the timestamp rule through
    /// `lookup(partition, unixMillis)` (returns the first offset at or after the time, or the
    /// end offset when none is), else 0. A checkpoint offset is where training resumes (that
    /// message is read again: at-least-once).
    public static func resolve(topicPartitions: [Int32], checkpoint: [Int32: Int64]?, fineTune: [Int32: Int64]?,
                               spec: OffsetSpec,
                               lookup: (Int32, Int64) throws -> Int64) throws -> [PartitionStart] {
        var partitions = topicPartitions
        if case .partitions(let named) = spec {
            let available = Set(topicPartitions)
            for p in named.keys where !available.contains(p) {
                throw TrainerError.config(field: "kafka_train_input.offset_info",
                                          reason: "partition \(p) does not exist (topic has \(topicPartitions.sorted()))")
            }
            partitions = named.keys.sorted()
        }
        let saved = checkpoint ?? fineTune
        let savedRule: StartRule = checkpoint != nil ? .checkpoint : .fineTuneCheckpoint
        var out: [PartitionStart] = []
        for p in partitions.sorted() {
            if let o = saved?[p] {
                out.append(PartitionStart(partition: p, offset: o, rule: savedRule))
                continue
            }
            switch spec {
            case .partitions(let named):
                out.append(PartitionStart(partition: p, offset: named[p] ?? 0, rule: .offsetInfo))
            case .timestamp(let ms):
                out.append(PartitionStart(partition: p, offset: try lookup(p, ms), rule: .timestamp))
            case .none:
                out.append(PartitionStart(partition: p, offset: 0, rule: .beginning))
            }
        }
        return out
    }
}
