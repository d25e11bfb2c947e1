import CRdKafka
import Synchronization
import Foundation

/// Owns one `rd_kafka_t` and guards its lifetime: calls `enter()`/`leave()` around every use, and
/// `shutdown` waits for running calls to finish before destroying.
///
/// `@unchecked Sendable` is sound here: librdkafka documents `rd_kafka_t` as thread-safe for every
/// call this module makes on it (produce, poll, flush, consumer_poll, assign, seek, commit, metadata,
/// watermark and offset queries), and the one non-thread-safe step, destruction, only runs after
/// `state` (a Mutex) shows no call in progress and has been marked closed, so no new call can start.
final class ClientHandle: @unchecked Sendable {
    let rk: OpaquePointer
    private let state = Mutex<(closed: Bool, users: Int)>((false, 0))

    init(_ rk: OpaquePointer) {
        self.rk = rk
    }

    /// Runs `body` with the handle unless it is closed.
    func use<T>(_ operation: String, topic: String? = nil,
                _ body: (OpaquePointer) throws(KafkaError) -> T) throws(KafkaError) -> T {
        let ok = state.withLock { s -> Bool in
            if s.closed { return false }
            s.users += 1
            return true
        }
        guard ok else { throw KafkaError.closed(operation, topic: topic) }
        defer { state.withLock { $0.users -= 1 } }
        return try body(rk)
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Marks the handle closed (returns false if it already was), waits until no call is running,
    /// then runs `teardown` (which must destroy `rk`).
    @discardableResult
    func shutdown(_ teardown: (OpaquePointer) -> Void) -> Bool {
        let first = state.withLock { s -> Bool in
            if s.closed { return false }
            s.closed = true
            return true
        }
        guard first else { return false }
        while state.withLock({ $0.users }) > 0 { usleep(1000) }
        teardown(rk)
        return true
    }
}
