@testable import Processor
import Testing

@Suite struct FetchWakerTests {
    @Test func kicksOnlyLaggingPartitionsRotatingAndThrottled() {
        var waker = FetchWaker()
        let t0 = ContinuousClock.now
        #expect(waker.due([], now: t0) == nil)
        let first = waker.due([3, 7], now: t0)
        #expect(first == 3 || first == 7)
        // Within the minimum interval: no second kick.
        #expect(waker.due([3, 7], now: t0 + .milliseconds(2)) == nil)
        let second = waker.due([3, 7], now: t0 + FetchWaker.minInterval)
        #expect(second != nil && second != first)
        #expect(waker.due([5], now: t0 + FetchWaker.minInterval * 2) == 5)
    }

    @Test func laggingPartitionsFollowEndOffsets() {
        let state = UpdateStreamState(mode: "kafka", source: "t", metrics: ProcessorMetrics(), checkPairing: false)
        state.setPartitions([PartitionProgress(partition: 0, startOffset: 5, endOffsetAtStart: 8),
                             PartitionProgress(partition: 1, startOffset: 2, endOffsetAtStart: 2)])
        #expect(state.laggingPartitions() == [0])
        for o in Int64(5)..<8 {
            state.recordApplied(partition: 0, offset: o, message: UpdateKindStep(dense: false, step: o), rows: 1, timestamp: nil)
        }
        #expect(state.laggingPartitions().isEmpty)
        #expect(state.snapshot.caughtUp)
        // A newer end offset (e.g. from a watermark query) makes the partition lag again.
        state.recordEndOffset(partition: 1, end: 4)
        #expect(state.laggingPartitions() == [1])
    }
}
