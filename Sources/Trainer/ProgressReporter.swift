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

    public init(step: Int, samplesPerSecond: Double, loss: Float, auc: Double, lag: Int64?, badSamples: Int) {
        self.step = step
        self.samplesPerSecond = samplesPerSecond
        self.loss = loss
        self.auc = auc
        self.lag = lag
        self.badSamples = badSamples
    }

    /// `step 200 samples/s 5123.4 loss 0.693147 auc 0.5123 lag 1200 bad 0`.
    public var text: String {
        var s = "step \(step) samples/s \(String(format: "%.1f", samplesPerSecond)) loss \(String(format: "%.6f", loss))"
        s += " auc \(String(format: "%.4f", auc))"
        s += " lag " + (lag.map(String.init) ?? "-")
        s += " bad \(badSamples)"
        return s
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
