extension Duration {
    /// Whole milliseconds, clamped to 0...Int32.max (librdkafka timeouts).
    var kafkaMilliseconds: Int32 {
        let (s, atto) = components
        let (ms, overflow) = s.multipliedReportingOverflow(by: 1000)
        if overflow { return s < 0 ? 0 : Int32.max }
        return Int32(clamping: max(0, ms + atto / 1_000_000_000_000_000))
    }
}
