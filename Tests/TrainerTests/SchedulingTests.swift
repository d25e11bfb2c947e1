import Foundation
import Testing
@testable import Trainer

@Suite struct SchedulingTests {
    @Test func stepTriggerNeverFiresAtArmingStep() {
        var t = PeriodicTrigger(steps: 10, seconds: nil, step: 0, time: 0)
        #expect(!t.isDue(step: 0, time: 1000))
        #expect(!t.isDue(step: 9, time: 1000))
        #expect(t.isDue(step: 10, time: 0))
        t.mark(step: 10, time: 0)
        #expect(!t.isDue(step: 10, time: 0))
        #expect(t.isDue(step: 20, time: 0))
    }

    @Test func secondsTrigger() {
        var t = PeriodicTrigger(steps: nil, seconds: 5, step: 3, time: 100)
        #expect(!t.isDue(step: 4, time: 104.9))
        #expect(t.isDue(step: 4, time: 105))
        #expect(!t.isDue(step: 3, time: 200))
        t.mark(step: 4, time: 105)
        #expect(!t.isDue(step: 5, time: 106))
        #expect(!PeriodicTrigger(steps: 0, seconds: 0, step: 0, time: 0).isEnabled)
    }

    @Test func stopConditions() throws {
        var s = StopConditions(numSteps: 100, deadline: 50, stopFile: nil)
        #expect(s.check(globalStep: 99, time: 10) == nil)
        #expect(s.check(globalStep: 100, time: 10) == .numSteps)
        #expect(s.check(globalStep: 1, time: 50) == .deadline)
        var unlimited = StopConditions(numSteps: 0, deadline: nil, stopFile: nil)
        #expect(unlimited.check(globalStep: 1_000_000, time: 1e12) == nil)
    }

    @Test func stopFileIsSeenWithinItsInterval() throws {
        let dir = makeTempDir()
        let file = dir + "/OSS_STOP_SIGNAL"
        var s = StopConditions(numSteps: 0, deadline: nil, stopFile: file, stopFileInterval: 2)
        #expect(s.check(globalStep: 1, time: 10) == nil)
        FileManager.default.createFile(atPath: file, contents: nil)
        #expect(s.check(globalStep: 2, time: 11) == nil)   // not looked at yet
        #expect(s.check(globalStep: 3, time: 12) == .stopFile)
    }

    @Test func progressLineFormats() {
        let l = ProgressLine(step: 200, samplesPerSecond: 5123.44, loss: 0.6931472, auc: 0.51234, lag: 1200, badSamples: 2)
        #expect(l.text == "step 200 samples/s 5123.4 loss 0.693147 auc 0.5123 lag 1200 bad 2")
        #expect(l.bar(numSteps: 1000, width: 10) == "[##........] 200/1000 5123 samples/s loss 0.6931")
        var noLag = l
        noLag.lag = nil
        #expect(noLag.text.contains(" lag - "))
        #expect(l.bar(numSteps: 0).hasPrefix("step 200 "))
    }

    @Test func progressLineShowsTotalRateAndETAWhenNumStepsIsKnown() {
        var l = ProgressLine(step: 200, samplesPerSecond: 5120, loss: 0.5, auc: 0.6, lag: nil, badSamples: 0,
                             numSteps: 1000, stepsPerSecond: 40)
        #expect(l.text == "step 200/1000 steps/s 40.0 eta 20 s samples/s 5120.0 loss 0.500000 auc 0.6000 lag - bad 0")
        l.stepsPerSecond = 0.5
        #expect(l.eta == "26 min 40 s")
        l.stepsPerSecond = 0.05
        #expect(l.eta == "4 h 26 min")
        l.stepsPerSecond = 0
        #expect(l.eta == "-")
        l.step = 1200
        l.stepsPerSecond = 10
        #expect(l.eta == "0 s")
    }
}
