import Foundation

/// One progress snapshot, printed every `log_step_count_steps`.
public struct ProgressLine: Sendable, Equatable {
    public var step: Int
    public var samplesPerSecond: Double
    public var loss: Float
    public var auc: Double
    /// Messages behind the end of the input topic (nil: unknown or file input).
    public var lag: Int64?
    public var badSamples: Int
    /// `num_steps` when known (> 0): the line then shows `step N/M`, the step rate and an ETA.
    public var numSteps: Int
    /// Steps per second over the last window.
    public var stepsPerSecond: Double

    public init(step: Int, samplesPerSecond: Double, loss: Float, auc: Double, lag: Int64?, badSamples: Int,
                numSteps: Int = 0, stepsPerSecond: Double = 0) {
        self.step = step
        self.samplesPerSecond = samplesPerSecond
        self.loss = loss
        self.auc = auc
        self.lag = lag
        self.badSamples = badSamples
        self.numSteps = numSteps
        self.stepsPerSecond = stepsPerSecond
    }

    /// `step 200 samples/s 5123.4 loss 0.693147 auc 0.5123 lag 1200 bad 0`; with `num_steps`,
    /// `step 200/1000 steps/s 40.0 eta 20 s samples/s ...`.
    public var text: String {
        var s = "step \(step)"
        if numSteps > 0 { s += "/\(numSteps) steps/s \(String(format: "%.1f", stepsPerSecond)) eta \(eta)" }
        s += " samples/s \(String(format: "%.1f", samplesPerSecond)) loss \(String(format: "%.6f", loss))"
        s += " auc \(String(format: "%.4f", auc))"
        s += " lag " + (lag.map(String.init) ?? "-")
        s += " bad \(badSamples)"
        return s
    }

    /// Time left at the current step rate: `45 s`, `12 min 5 s`, `2 h 3 min`; `-` while the rate is unknown.
    public var eta: String {
        guard numSteps > 0, stepsPerSecond > 0, stepsPerSecond.isFinite else { return "-" }
        let left = Int((Double(max(0, numSteps - step)) / stepsPerSecond).rounded())
        if left < 60 { return "\(left) s" }
        if left < 3600 { return "\(left / 60) min \(left % 60) s" }
        return "\(left / 3600) h \((left % 3600) / 60) min"
    }

    /// A one-line bar for interactive terminals: `[#####.....] 200/1000 5123 samples/s loss 0.6931`
    /// (without a step target: a step counter).
    public func bar(numSteps: Int, width: Int = 30) -> String {
        let stats = "\(String(format: "%.0f", samplesPerSecond)) samples/s loss \(String(format: "%.4f", loss))"
        guard numSteps > 0 else { return "step \(step) \(stats)" + (lag.map { " lag \($0)" } ?? "") }
        let done = min(width, max(0, step * width / numSteps))
        return "[" + String(repeating: "#", count: done) + String(repeating: ".", count: width - done) + "] "
            + "\(step)/\(numSteps) \(stats)"
    }
}

/// Writes progress lines to the log and, on an interactive stderr, a live bar.
public struct ProgressReporter {
    public let interactive: Bool
    public let numSteps: Int

    public init(numSteps: Int, interactive: Bool = isatty(STDERR_FILENO) != 0) {
        self.numSteps = numSteps
        self.interactive = interactive
    }

    /// Redraws the bar (interactive only).
    public func drawBar(_ line: ProgressLine) {
        guard interactive else { return }
        FileHandle.standardError.write(Data(("\r\u{1b}[K" + line.bar(numSteps: numSteps)).utf8))
    }

    /// Clears the bar before a log line is printed (interactive only).
    public func clearBar() {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
    }
}
