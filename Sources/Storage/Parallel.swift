import Foundation
import Synchronization

/// Runs `count` jobs on up to `width` threads (blocking I/O, so not the cooperative pool);
/// the first error stops the remaining jobs and is rethrown.
enum Parallel {
    /// Shared by the workers: the next job index and the first failure.
    private final class State: Sendable {
        let next = Atomic<Int>(0)
        let failure = Mutex<StorageError?>(nil)
    }

    static func run(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) throws(StorageError) -> Void) throws(StorageError) {
        guard count > 0 else { return }
        let state = State()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(width, count)) {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                while true {
                    let i = state.next.add(1, ordering: .relaxed).oldValue
                    if i >= count || state.failure.withLock({ $0 != nil }) { return }
                    do throws(StorageError) { try body(i) } catch {
                        state.failure.withLock { if $0 == nil { $0 = error } }
                        return
                    }
                }
            }
            t.name = "odl-storage"
            t.start()
        }
        group.wait()
        if let e = state.failure.withLock({ $0 }) { throw e }
    }
}
