import Foundation
import Inference
import Logging
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Keeps the processor's resident memory under `--memory-budget`: a thread samples the
/// resident set every `interval` and, when it is over the budget, drops the pages of the
/// store's sorted memory-mapped key-value bases (read-only file pages, so nothing is lost;
/// hot pages come back from the page cache on their next lookup). Heap memory (dense
/// variables, hash indexes, updated rows) cannot be released this way: when it alone exceeds
/// the budget, the guard says so once.
public final class MemoryBudget: Sendable {
    public let budgetBytes: Int
    let interval: Double
    let store: ParameterStore
    let logger: Logger
    let metrics: ProcessorMetrics
    private let stop = Atomic<Bool>(false)
    private let done = Atomic<Bool>(false)
    /// Largest resident set sampled, and releases done.
    let peakBytes = Atomic<Int>(0)
    let releases = Atomic<Int>(0)

    init(budgetBytes: Int, interval: Double = 0.05, store: ParameterStore, metrics: ProcessorMetrics, logger: Logger) {
        self.budgetBytes = budgetBytes
        self.interval = interval
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the sampling thread.
    func start() {
        let thread = Thread { [self] in
            var warned = false
            var quietUntil = 0.0
            while !stop.load(ordering: .relaxed) {
                if let rss = MemoryBudget.residentBytes() {
                    var resident = rss
                    if resident > budgetBytes && MemoryBudget.now() >= quietUntil {
                        let released = store.releaseMappedPages()
                        releases.add(1, ordering: .relaxed)
                        metrics.memoryBudgetReleases.increment()
                        resident = MemoryBudget.residentBytes() ?? resident
                        // Still over: the rest is heap; releasing again at once would only slow lookups.
                        if resident > budgetBytes { quietUntil = MemoryBudget.now() + 1 }
                        if resident > budgetBytes && !warned {
                            warned = true
                            logger.warning("resident memory is over --memory-budget after releasing the mapped tables", metadata: [
                                "resident_bytes": "\(resident)", "budget_bytes": "\(budgetBytes)",
                                "released_mapping_bytes": "\(released)",
                                "hint": "the rest is heap (dense variables, hash indexes, updated rows): raise the budget",
                            ])
                        }
                    }
                    let peak = peakBytes.load(ordering: .relaxed)
                    if rss > peak { peakBytes.store(rss, ordering: .relaxed) }
                    metrics.residentBytes.record(resident)
                }
                usleep(UInt32(interval * 1e6))
            }
            done.store(true, ordering: .releasing)
        }
        thread.name = "odl-memory-budget"
        thread.start()
    }

    /// Stops the thread (returns once it has exited).
    func shutdown() {
        stop.store(true, ordering: .relaxed)
        while !done.load(ordering: .acquiring) { usleep(1000) }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// This process's resident set in bytes (`/proc/self/statm`), nil where unreadable.
    static func residentBytes() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 127) }
        guard n > 0 else { return nil }
        // "size resident shared ..." in pages.
        var field = 0, value = 0, i = 0
        while i < n {
            let c = buf[i]
            if c == UInt8(ascii: " ") {
                if field == 1 { break }
                field += 1
                value = 0
            } else if c >= 48 && c <= 57 {
                value = value * 10 + Int(c - 48)
            }
            i += 1
        }
        return field == 1 ? value * Int(sysconf(Int32(_SC_PAGESIZE))) : nil
    }

    /// Parses a size: bytes, or a number with K/M/G/T (powers of 1024; optional `B`/`iB`).
    public static func parseSize(_ text: String) throws(ServeError) -> Int {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var scale = 1.0
        if let last = t.last, let s = ["K": 1024.0, "M": 1048576.0, "G": 1073741824.0, "T": 1099511627776.0][String(last)] {
            scale = s
            t.removeLast()
        }
        guard let v = Double(t), v.isFinite, v > 0, v * scale < 9e18 else {
            throw ServeError("--memory-budget: \"\(text)\" is not a size (e.g. 4G, 512M, 1073741824)")
        }
        return Int(v * scale)
    }
}
