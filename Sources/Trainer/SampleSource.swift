/// One training sample as read from its source (a Kafka message or a file line).
public struct SampleRecord: Sendable {
    /// Kafka partition, or the file's index in the input list.
    public var partition: Int32
    /// Kafka offset, or the line number (from 1).
    public var offset: Int64
    /// Kafka message key (an optional sample id).
    public var key: [UInt8]?
    public var value: [UInt8]

    public init(partition: Int32, offset: Int64, key: [UInt8]? = nil, value: [UInt8]) {
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
    }
}

/// A stream of sample records (Kafka topic or files). Used from the training thread.
public protocol SampleSource: AnyObject {
    /// Up to `maxRecords` records, waiting at most `timeout` seconds for the first.
    func poll(maxRecords: Int, timeout: Double) throws -> [SampleRecord]
    /// True once a finite source (files) has delivered everything.
    var isExhausted: Bool { get }
    /// Whether positions are Kafka offsets worth saving in `.offset` files.
    var hasOffsets: Bool { get }
    /// Messages behind the end of the input, given the last consumed offset per partition (nil: unknown).
    func lag(positions: [Int32: Int64]) -> Int64?
    /// Records progress (last consumed offset per partition) in the consumer group, if any.
    func commit(positions: [Int32: Int64])
    /// Where a record came from, for log lines ("topic t partition 1 offset 17", "file x line 3").
    func describe(_ record: SampleRecord) -> String
    /// Cursors of the next unread record per partition, saved in checkpoints (DataHub; others none).
    func cursors(positions: [Int32: Int64]) -> [Int32: String]
}

extension SampleSource {
    public func cursors(positions: [Int32: Int64]) -> [Int32: String] { [:] }
}
