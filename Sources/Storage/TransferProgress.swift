import Foundation
import Logging
import Synchronization

/// Bytes and rate of one long transfer, logged every few seconds and at the end.
final class TransferProgress: Sendable {
    private struct Counters { var done = 0; var lastLog: Double }
    let what: String
    let url: String
    let total: Int
    let start: Double
    private let counters: Mutex<Counters>
    static let logger = Logger(label: "odl.storage")

    init(what: String, url: String, total: Int) {
        self.what = what
        self.url = url
        self.total = total
        start = Self.now()
        counters = Mutex(Counters(lastLog: start))
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func mb(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    func add(_ bytes: Int) {
        let t = Self.now()
        let line: String? = counters.withLock { c in
            c.done += bytes
            guard t - c.lastLog >= 5 else { return nil }
            c.lastLog = t
            return "\(what) \(url): \(Self.mb(c.done)) of \(Self.mb(total)) (\(String(format: "%.1f", Double(c.done) / max(t - start, 1e-6) / 1e6)) MB/s)"
        }
        if let line { Self.logger.info("\(line)") }
    }

    func finish() {
        let secs = Self.now() - start
        let text = "\(what) \(url): \(Self.mb(total)) in \(String(format: "%.2f", secs)) s (\(String(format: "%.1f", Double(total) / max(secs, 1e-6) / 1e6)) MB/s)"
        if total >= 8 << 20 { Self.logger.info("\(text)") } else { Self.logger.debug("\(text)") }
    }
}
