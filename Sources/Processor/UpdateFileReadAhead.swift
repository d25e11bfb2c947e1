import Dispatch
import Foundation
import Synchronization

/// Reads a list of update files on its own thread, up to `depth` files ahead of the consumer,
/// so reading the next files overlaps applying the current one. Files come out in the order
/// given, each exactly once, as bytes or as the read failure; buffers are recycled.
final class UpdateFileReadAhead: Sendable {
    /// One file, read or failed.
    struct Item: Sendable {
        var name: String
        /// The file's bytes are `bytes[0..<count]` (the buffer may be longer).
        var bytes: [UInt8]
        var count: Int
        var modified: Double?
        var failure: UpdateFileFolder.Failure?
    }

    private struct Queue {
        var items: [Item] = []
        var head = 0
        var free: [[UInt8]] = []
        var cancelled = false
    }

    private let folder: UpdateFileFolder
    private let names: [String]
    private let queue = Mutex(Queue())
    /// Counts items ready to take, and slots free to read into.
    private let filled = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)
    private let taken = Atomic<Int>(0)

    /// Start reading `names` of `folder` in order, at most `depth` files ahead of `next()`.
    init(folder: UpdateFileFolder, names: [String], depth: Int = 3) {
        self.folder = folder
        self.names = names
        // Made at 0 and signalled up: libdispatch traps when a semaphore is freed below its initial value.
        space = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, depth) { space.signal() }
        let thread = Thread { [self] in readAll() }
        thread.name = "odl-update-read-ahead"
        thread.start()
    }

    private func readAll() {
        defer { finished.signal() }
        for name in names {
            space.wait()
            guard var buffer = queue.withLock({ q -> [UInt8]? in q.cancelled ? nil : (q.free.popLast() ?? []) }) else { return }
            var item = Item(name: name, bytes: [], count: 0)
            do throws(UpdateFileFolder.Failure) {
                let read = try folder.read(name, into: &buffer)
                item.count = read.count
                item.modified = read.modified
            } catch {
                item.failure = error
            }
            item.bytes = buffer
            queue.withLock { $0.items.append(item) }
            filled.signal()
        }
    }

    /// The next file in order; nil once every file was taken.
    func next() -> Item? {
        guard taken.load(ordering: .relaxed) < names.count else { return nil }
        taken.wrappingAdd(1, ordering: .relaxed)
        filled.wait()
        return queue.withLock { q -> Item in
            let item = q.items[q.head]
            q.items[q.head].bytes = []
            q.head += 1
            if q.head == q.items.count {
                q.items.removeAll(keepingCapacity: true)
                q.head = 0
            }
            return item
        }
    }

    /// Give a taken item's buffer back for the files still to read (consumed: the reader then
    /// holds the only reference and reads into it without a copy).
    func recycle(_ item: consuming Item) {
        let bytes = item.bytes
        queue.withLock { $0.free.append(bytes) }
        space.signal()
    }

    /// Stop reading (files not yet taken are dropped) and wait for the reader thread to end.
    /// Also call it after taking every file: it then just waits for the thread.
    func finish() {
        queue.withLock { $0.cancelled = true }
        space.signal()  // wakes the reader if it waits for a free slot
        finished.wait()
    }
}
