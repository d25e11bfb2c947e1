import Foundation
import Storage
import Synchronization

/// Why training ended.
public enum StopReason: String, Sendable, Equatable {
    case numSteps = "num_steps reached"
    case deadline = "dead_line passed"
    case signal = "SIGTERM/SIGINT received"
    case stopFile = "OSS_STOP_SIGNAL found in model_dir"
    case inputExhausted = "input exhausted"
}

/// Process-wide flag set by SIGTERM/SIGINT (an atomic store is async-signal-safe).
let terminationRequested = Atomic<Int32>(0)

/// Installs SIGTERM/SIGINT handlers that ask the trainer to stop gracefully.
public enum TerminationSignals {
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            terminationRequested.store(sig, ordering: .relaxed)
        }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
    }

    /// The signal received, or 0.
    public static var received: Int32 { terminationRequested.load(ordering: .relaxed) }

    /// For tests: forget a received signal.
    public static func reset() { terminationRequested.store(0, ordering: .relaxed) }
}

/// The stop rules of trainer.md: num_steps, dead_line, signals, `model_dir/OSS_STOP_SIGNAL`.
///
/// The stop file is checked whatever `enable_oss_stop_signal` says (formats.md section 3
/// makes it part of model_dir's contract), at most every `stopFileInterval` seconds.
public struct StopConditions: Sendable {
    /// Stop when global_step reaches this (0 = never).
    public var numSteps: Int
    /// Unix seconds of `dead_line`, if set.
    public var deadline: Double?
    /// Path or object-store URL of `OSS_STOP_SIGNAL`, if there is a model_dir.
    public var stopFile: String?
    public var stopFileInterval: Double
    private var lastFileCheck: Double = -Double.infinity

    public init(numSteps: Int, deadline: Double?, stopFile: String?, stopFileInterval: Double = 2) {
        self.numSteps = numSteps
        self.deadline = deadline
        self.stopFile = stopFile
        self.stopFileInterval = stopFileInterval
    }

    /// The reason to stop now, if any. `time` is unix seconds.
    public mutating func check(globalStep: Int, time: Double) -> StopReason? {
        if numSteps > 0, globalStep >= numSteps { return .numSteps }
        if TerminationSignals.received != 0 { return .signal }
        if let d = deadline, time >= d { return .deadline }
        if let f = stopFile, time - lastFileCheck >= stopFileInterval {
            lastFileCheck = time
            // An unreachable store counts as "no signal yet"; the next check asks again.
            if (try? Storage.location(f).exists()) == true { return .stopFile }
        }
        return nil
    }
}
