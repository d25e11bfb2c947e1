@testable import Processor
import Testing

@Suite struct FetchWakerTests {
    @Test func kicksOnlyLaggingPartitionsRotatingAndThrottled() {
        var waker = FetchWaker()
        let t0 = ContinuousClock.now
        let ms = { (n: Int) in t0 + .milliseconds(n) }
        #expect(waker.due([], now: t0) == nil)
        let first = waker.due([3, 7], now: t0)
        #expect(first == 3 || first == 7)
        // Within the minimum interval: no second kick.
        #expect(waker.due([3, 7], now: ms(2)) == nil)
        let second = waker.due([3, 7], now: ms(10))
        #expect(second != nil && second != first)
        // Nothing arrived after that kick: the next one waits twice as long (20 ms).
        #expect(waker.due([3, 7], now: ms(25)) == nil)
        #expect(waker.due([3, 7], now: ms(30)) != nil)
        // Messages arrived: back to the shortest interval.
        waker.received()
        #expect(waker.due([5], now: ms(40)) == 5)
    }

    @Test func backoffIsCappedAndPollsStayShortWhileBehind() {
        var waker = FetchWaker()
        var now = ContinuousClock.now
        var kicks = 0
        for _ in 0..<2000 {
            now += .milliseconds(5)
            if waker.due([1], now: now) != nil { kicks += 1 }
            #expect(waker.pollTimeout(lagging: true) >= .milliseconds(5))
            #expect(waker.pollTimeout(lagging: true) <= FetchWaker.idlePoll)
        }
        // 10 s without progress: 10, 20, ... 640 ms, then one kick a second.
        #expect(kicks >= 9 && kicks <= 20)
        #expect(waker.pollTimeout(lagging: false) == FetchWaker.idlePoll)
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
