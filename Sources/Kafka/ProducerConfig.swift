/// Producer settings. Defaults suit parameter updates: acks=all, idempotent, large messages,
/// and a bounded delivery timeout so a send to an unreachable broker fails instead of hanging.
public struct ProducerConfig: Sendable {
    public var bootstrap: String
    /// "all", "1" or "0".
    public var acks: String = "all"
    public var idempotence: Bool = true
    /// none | gzip | snappy | lz4 | zstd.
    public var compression: String = "none"
    /// Largest message accepted (message.max.bytes); default 64 MiB + 64 KiB.
    public var messageMaxBytes: Int = 67_174_400
    /// A message not acknowledged within this many ms fails with `_MSG_TIMED_OUT` (message.timeout.ms).
    public var deliveryTimeoutMs: Int = 30_000
    /// How long to wait for more messages before sending a batch (linger.ms). 0: send at once
    /// (a blocking send takes ~0.1 ms on the embedded broker instead of ~5 ms; messages sent
    /// while a request is in flight still batch).
    public var lingerMs: Int = 0
    /// Raw librdkafka settings, applied last (override everything above).
    public var settings: [String: String]

    public init(bootstrap: String, settings: [String: String] = [:]) {
        self.bootstrap = bootstrap
        self.settings = settings
    }

    var librdkafkaSettings: [(String, String)] {
        KafkaConf.merge([
            ("bootstrap.servers", bootstrap),
            ("acks", acks),
            ("enable.idempotence", idempotence ? "true" : "false"),
            ("compression.codec", compression),
            ("message.max.bytes", String(messageMaxBytes)),
            ("message.timeout.ms", String(deliveryTimeoutMs)),
            ("linger.ms", String(lingerMs)),
            ("log.connection.close", "false"),
            ("reconnect.backoff.max.ms", "1000"),
        ], settings)
    }
}
