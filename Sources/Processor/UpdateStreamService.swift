import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs an update stream's blocking loop on its own thread for the lifetime of the service
/// group; on graceful shutdown it stops the loop and waits for the consumer to close.
public final class UpdateStreamService: Service, Sendable {
    enum Source: Sendable {
        case kafka(KafkaUpdateStream)
        case fs(FSUpdateStream)
    }

    private let source: Source
    private let stop = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let stopReported = Atomic<Bool>(false)
    private let finished = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))
    let logger: Logger

    init(source: Source, logger: Logger) {
        self.source = source
        self.logger = logger
    }

    /// Start the stream thread (idempotent). `run()` calls it; a caller may start earlier.
    public func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let thread = Thread { [self] in
            switch source {
            case .kafka(let s): s.run(stop: stop)
            case .fs(let s): s.run(stop: stop)
            }
            let waiter = finished.withLock { f -> CheckedContinuation<Void, Never>? in
                f.done = true
                defer { f.waiter = nil }
                return f.waiter
            }
            waiter?.resume()
        }
        thread.name = "odl-update-stream"
        thread.start()
    }

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Ask the loop to stop without waiting for it (a start-up that failed after `start()`).
    func requestStop() { stop.store(true, ordering: .relaxed) }

    /// Stop the loop and wait until the thread has closed its consumer.
    public func shutdown() async {
        stop.store(true, ordering: .relaxed)
        guard started.load(ordering: .acquiring) else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = finished.withLock { f -> Bool in
                if f.done { return true }
                f.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
        // Both the service's own run() and the server's exit path call shutdown(): say it once.
        if !stopReported.exchange(true, ordering: .relaxed) { logger.info("update stream stopped") }
    }
}
