/// Decides when the Kafka update stream wakes librdkafka's fetcher during a replay.
///
/// librdkafka 2.0 pauses fetching while its consumer queue is over queued.max.messages.kbytes
/// and looks again only when the broker thread next wakes (up to 1 s). When the processor has
/// drained the queue (a poll came back empty) while a partition is still behind its known end
/// offset, the stream sends a cheap request (a watermark query) to that partition's leader,
/// which wakes the broker thread. Kicks rotate over the lagging partitions, at most one per
/// `minInterval`.
struct FetchWaker {
    /// Poll timeout while some partition is behind its known end offset.
    static let pollWhileBehind: Duration = .milliseconds(5)
    /// Least time between two kicks.
    static let minInterval: Duration = .milliseconds(10)

    private var last: ContinuousClock.Instant?
    private var rotation = 0
    private let clock = ContinuousClock()

    /// The partition to kick now, or nil (nothing lagging, or the last kick was too recent).
    mutating func due(_ lagging: [Int32], now: ContinuousClock.Instant? = nil) -> Int32? {
        guard !lagging.isEmpty else { return nil }
        let now = now ?? clock.now
        if let last, now - last < Self.minInterval { return nil }
        last = now
        rotation &+= 1
        return lagging[rotation % lagging.count]
    }
}
