import Foundation

/// Runs a job as two halves, one on the caller's thread and one on a dedicated worker
/// thread, and returns when both are done. Used by ``TrainableDeepFM`` to split dense layers
/// and sparse updates over 2 cores; every caller partitions the work so the halves write
/// disjoint memory.
///
/// `@unchecked Sendable` is safe here because the only mutable state, `job` and `stopping`,
/// is written by the owner thread strictly before `start.signal()` and read by the worker
/// strictly after `start.wait()` (the semaphore orders the accesses), and the owner does not
/// return from ``run(_:)`` (nor touch `job` again) until the worker has signalled `done`.
final class ForkJoin: @unchecked Sendable {
    private var job: ((Int) -> Void)?
    private var stopping = false
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init() {
        let thread = Thread { [self] in self.workerLoop() }
        thread.name = "odl-trainer-compute"
        thread.start()
    }

    private func workerLoop() {
        while true {
            start.wait()
            if stopping { break }
            job?(1)
            done.signal()
        }
        done.signal()
    }

    /// `body(0)` runs here, `body(1)` on the worker, concurrently.
    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            start.signal()
            escapable(0)
            done.wait()
            job = nil
        }
    }

    /// Stop the worker thread (the owner calls this once, from its deinit).
    func shutdown() {
        stopping = true
        start.signal()
        done.wait()
    }
}
