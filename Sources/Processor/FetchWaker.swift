/// Decides when the Kafka update stream wakes librdkafka's fetcher during a replay.
///
/// librdkafka 2.0 pauses fetching while its consumer queue is over queued.max.messages.kbytes
/// and looks again only when the broker thread next wakes (up to 1 s). When the processor has
/// drained the queue (a poll came back empty) while a partition is still behind its known end
/// offset, the stream sends a cheap request (a watermark query) to that partition's leader,
/// which wakes the broker thread. Kicks rotate over the lagging partitions; a kick after which
/// nothing arrived doubles the interval to the next one (10 ms up to 1 s), so a partition that
/// stays behind for another reason (broker down, data gone) is not queried in a tight loop.
struct FetchWaker {
    /// Least time between two kicks (while messages keep arriving).
    static let minInterval: Duration = .milliseconds(10)
    /// Longest time between two kicks when nothing arrives.
    static let maxInterval: Duration = .seconds(1)
    /// Poll timeout when no partition is behind.
    static let idlePoll: Duration = .milliseconds(100)

    private var last: ContinuousClock.Instant?
    private var interval = FetchWaker.minInterval
    private var rotation = 0

    /// How long the next poll may wait: short while behind, so a stalled fetcher is noticed quickly.
    func pollTimeout(lagging: Bool) -> Duration {
        lagging ? min(max(interval / 2, .milliseconds(5)), Self.idlePoll) : Self.idlePoll
    }

    /// Messages arrived: the fetcher is running; kicks go back to the shortest interval.
    mutating func received() {
        interval = Self.minInterval
    }

    /// The partition to kick now, or nil (nothing lagging, or the last kick was too recent).
    mutating func due(_ lagging: [Int32], now: ContinuousClock.Instant = .now) -> Int32? {
        guard !lagging.isEmpty else { return nil }
        if let last {
            if now - last < interval { return nil }
            interval = min(interval * 2, Self.maxInterval)
        }
        last = now
        rotation &+= 1
        return lagging[rotation % lagging.count]
    }
}
