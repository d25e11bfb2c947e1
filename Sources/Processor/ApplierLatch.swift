import Dispatch
import Synchronization

/// Holds update application until the model is loaded.
///
/// The update stream starts as soon as the export's manifest is read (``EarlyUpdateStream``),
/// before the base tables are loaded, so it can fetch while the tables load. It asks the latch
/// for the applier before applying anything: until ``open(_:)`` there is none, and the stream
/// buffers (bounded) instead of applying. `open` is called once, after the store is complete;
/// from then on every caller gets the same applier. A latch made with an applier is open from
/// the start (a processor built on an already loaded model).
final class ApplierLatch: Sendable {
    private let applierBox: Mutex<UpdateApplier?>
    /// Signalled once by `open`; only the stream thread waits on it (`wait(timeout:)`).
    private let opened = DispatchSemaphore(value: 0)

    /// A closed latch (no applier yet).
    init() { applierBox = Mutex(nil) }

    /// An open latch.
    init(applier: UpdateApplier) { applierBox = Mutex(applier) }

    /// The applier once the model is loaded, nil before. Never blocks.
    var applier: UpdateApplier? { applierBox.withLock { $0 } }

    /// Publish the applier (the model is loaded): the stream applies what it buffered, in order,
    /// and then applies as it reads. A second call is ignored (the first applier stays).
    func open(_ applier: UpdateApplier) {
        let first = applierBox.withLock { box -> Bool in
            if box != nil { return false }
            box = applier
            return true
        }
        if first { opened.signal() }
    }

    /// Waits up to `timeout` for the latch to open; returns the applier, or nil if still closed.
    /// Blocking: for the stream's own thread only.
    func wait(timeout: Duration) -> UpdateApplier? {
        if let a = applier { return a }
        let (s, atto) = timeout.components
        let ns = max(0, Int(s) * 1_000_000_000 + Int(atto / 1_000_000_000))
        if opened.wait(timeout: .now() + .nanoseconds(ns)) == .success {
            opened.signal()   // keep it signalled for any later wait
        }
        return applier
    }
}
