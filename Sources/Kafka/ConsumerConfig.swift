/// What the consumer does when its start offset is not held by the broker.
public enum AutoOffsetReset: String, Sendable {
    /// Jump to the oldest held offset (silently skips dropped data).
    case earliest
    /// Jump to the end.
    case latest
    /// Deliver a `ConsumerEvent.error` with `isOffsetOutOfRange` so the caller can report the gap.
    case error
}

/// Consumer settings. Defaults accept messages up to 64 MiB; set `fetchWaitMaxMs` to 5-10 for
/// low-latency tailing (the embedded broker waits the full fetch.wait.max.ms on every fetch).
public struct ConsumerConfig: Sendable {
    public var bootstrap: String
    /// Needed for `commit` / `committed` / `.committed` start offsets; nil for a group-less reader.
    public var groupID: String?
    public var autoOffsetReset: AutoOffsetReset = .error
    /// fetch.max.bytes.
    public var fetchMaxBytes: Int = 67_174_400
    /// max.partition.fetch.bytes.
    public var maxPartitionFetchBytes: Int = 67_174_400
    /// receive.message.max.bytes; nil: fetchMaxBytes + 1 MiB.
    public var receiveMessageMaxBytes: Int?
    /// fetch.wait.max.ms.
    public var fetchWaitMaxMs: Int = 100
    /// session.timeout.ms (groups only).
    public var sessionTimeoutMs: Int = 6_000
    /// Emit `ConsumerEvent.partitionEOF` when a partition is caught up.
    public var enablePartitionEOF: Bool = true
    /// Raw librdkafka settings, applied last (override everything above).
    public var settings: [String: String]

    public init(bootstrap: String, groupID: String? = nil, settings: [String: String] = [:]) {
        self.bootstrap = bootstrap
        self.groupID = groupID
        self.settings = settings
    }

    var librdkafkaSettings: [(String, String)] {
        let s: [(String, String)] = [
            ("bootstrap.servers", bootstrap),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("enable.partition.eof", enablePartitionEOF ? "true" : "false"),
            ("fetch.max.bytes", String(fetchMaxBytes)),
            ("max.partition.fetch.bytes", String(maxPartitionFetchBytes)),
            ("receive.message.max.bytes", String(receiveMessageMaxBytes ?? fetchMaxBytes + 1_048_576)),
            ("fetch.wait.max.ms", String(fetchWaitMaxMs)),
            ("session.timeout.ms", String(sessionTimeoutMs)),
            ("log.connection.close", "false"),
            ("reconnect.backoff.max.ms", "1000"),
            // librdkafka needs a group id even for assign(); a group-less reader gets a private
            // one it never joins or commits to (commit() refuses without `groupID`).
            ("group.id", groupID ?? "odl-reader-\(UInt64.random(in: 0...UInt64.max))"),
        ]
        return KafkaConf.merge(s, settings)
    }
}
