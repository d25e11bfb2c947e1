import CPrefetch
import Foundation
import Inference
import Logging

/// Takes the copy-on-write faults of the file-mapped tables on a background thread at start-up,
/// while the first updates apply: a replay's first write to each page of a private map would
/// otherwise fault on the applying thread (measured as the main gap of a replay from a real
/// broker). See ``ParameterStore/prefaultMappedTables(stepBytes:populateWrite:shouldStop:)`` for why it is
/// safe alongside the applier and predictions.
///
/// Only with an update source, without --memory-budget (it makes every mapped page a private,
/// resident copy, which is what a budget exists to avoid) and for at most ``maxBytes`` of
/// mapped tables (beyond that the replay may touch a small part of them).
enum TablePrefault {
    static let maxBytes = 1 << 30

    /// Whether to prefault, and why not.
    static func decision(store: ParameterStore, source: UpdateSource, memoryBudget: Int?) -> (run: Bool, reason: String) {
        if case .none = source { return (false, "no update source") }
        if memoryBudget != nil { return (false, "--memory-budget is set") }
        let bytes = store.mappedWritableTableBytes
        if bytes == 0 { return (false, "no file-mapped tables") }
        if bytes > maxBytes { return (false, "mapped tables hold \(bytes) bytes (> \(maxBytes))") }
        return (true, "")
    }

    /// Starts the background thread when ``decision(store:source:memoryBudget:)`` says so.
    static func start(store: ParameterStore, source: UpdateSource, memoryBudget: Int?, logger: Logger) {
        let d = decision(store: store, source: source, memoryBudget: memoryBudget)
        guard d.run else {
            logger.debug("mapped tables not prefaulted", metadata: ["reason": "\(d.reason)"])
            return
        }
        let thread = Thread {
            // Only idle CPU: on a busy machine the replay's own faults (on the applying thread) are
            // cheaper than taking a core from the fetch and apply it is meant to speed up.
            let idle = odl_thread_sched_idle() == 0
            let t0 = ContinuousClock.now
            let report = store.prefaultMappedTables()
            let seconds = ProcessorServer.seconds(ContinuousClock.now - t0)
            if let failure = report.failure {
                logger.warning("prefault of mapped tables stopped", metadata: [
                    "bytes": "\(report.bytes)", "method": "\(report.method)", "reason": "\(failure)", "seconds": "\(seconds)"])
            } else {
                logger.info("mapped tables prefaulted for writes", metadata: [
                    "bytes": "\(report.bytes)", "method": "\(report.method)", "seconds": "\(seconds)", "sched_idle": "\(idle)"])
            }
        }
        thread.name = "odl-prefault"
        thread.start()
    }
}
