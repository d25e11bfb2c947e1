/// Where incremental update messages go (Kafka topic or files); a message counts as sent
/// only when `send` returns.
public protocol UpdateSink: AnyObject {
    /// Sends one encoded message under `key` (`dense_update_<step>` / `sparse_update_<step>`);
    /// returns once it is durably acknowledged, throws after retries failed.
    func send(key: String, value: [UInt8]) throws
    /// Next offset per partition of the update topic after the last acknowledged message
    /// (empty for sinks without offsets).
    var nextOffsets: [Int32: Int64] { get }
    /// A short description for logs.
    var description: String { get }
}
