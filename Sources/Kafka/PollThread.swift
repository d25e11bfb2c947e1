import CRdKafka
import Foundation
import Synchronization

/// A dedicated thread calling `rd_kafka_poll` so delivery reports and error callbacks are served
/// without anyone on the Swift concurrency pool blocking.
final class PollThread: Sendable {
    private final class State: Sendable {
        let running = Atomic<Bool>(true)
        let finished = DispatchSemaphore(value: 0)
    }
    private let state = State()

    init(handle: ClientHandle, name: String) {
        let state = self.state
        let thread = Thread {
            while state.running.load(ordering: .acquiring) {
                _ = rd_kafka_poll(handle.rk, 50)
            }
            state.finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the loop and waits for the thread to leave it (at most one poll interval).
    func stop() {
        if state.running.exchange(false, ordering: .acquiringAndReleasing) {
            state.finished.wait()
        }
    }
}
