/// Fires every `everySteps` steps or every `everySeconds` seconds (whichever is configured;
/// both may be), never at the step it was armed at: the rule behind incremental saves,
/// checkpoints and progress lines.
public struct PeriodicTrigger: Sendable {
    public let everySteps: Int?
    public let everySeconds: Double?
    public private(set) var lastStep: Int
    public private(set) var lastTime: Double

    /// `steps`/`seconds` <= 0 or nil are off. `step` and `time` are the arming point.
    public init(steps: Int?, seconds: Double?, step: Int, time: Double) {
        everySteps = (steps ?? 0) > 0 ? steps : nil
        everySeconds = (seconds ?? 0) > 0 ? seconds : nil
        lastStep = step
        lastTime = time
    }

    /// Whether either rule is configured.
    public var isEnabled: Bool { everySteps != nil || everySeconds != nil }

    /// True when a new step was trained since the last firing and a period elapsed.
    public func isDue(step: Int, time: Double) -> Bool {
        guard step > lastStep else { return false }
        if let n = everySteps, step - lastStep >= n { return true }
        if let s = everySeconds, time - lastTime >= s { return true }
        return false
    }

    /// Records a firing (or an explicit save) at `step`.
    public mutating func mark(step: Int, time: Double) {
        lastStep = step
        lastTime = time
    }
}
