import Foundation

/// Unbuffered progress output (stdout may be a pipe under `make`).
enum DemoLog {
    static let start = Date()

    static func say(_ line: String) {
        let started = start  // initialised before "now" is read, so the first line is never negative
        FileHandle.standardOutput.write(Data((stamp(since: started, now: Date()) + line + "\n").utf8))
    }

    /// `[   1.5s] `: seconds since the demo started, never below zero (no `[-0.0s]`).
    static func stamp(since started: Date, now: Date) -> String {
        String(format: "[%6.1fs] ", max(0, now.timeIntervalSince(started)))
    }

    static func raw(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
