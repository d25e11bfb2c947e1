#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of floats the process owns: malloc'd, or a private (copy-on-write) memory map of
/// an `.npy` file. Freed (or unmapped) on deinit.
///
/// `@unchecked Sendable`: the class holds only immutable `let` properties (the pointer and
/// sizes never change). It does not synchronize the floats themselves: the owner does. In this
/// module the only owner that writes through `pointer` after construction is
/// ``ParameterStore``, and only under its write lock, while readers hold its read lock.
public final class FloatBuffer: @unchecked Sendable {
    /// First float.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of floats.
    public let count: Int
    /// Whether the memory is a file mapping (private, so writes never reach the file).
    public let isMapped: Bool
    private let mapBase: UnsafeMutableRawPointer?
    private let mapLength: Int

    /// Zero-filled heap memory for `count` floats.
    public init(zeroed count: Int) {
        self.count = max(count, 0)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(self.count, 1))
        p.initialize(repeating: 0, count: max(self.count, 1))
        pointer = p
        isMapped = false
        mapBase = nil
        mapLength = 0
    }

    /// Heap memory for `count` floats whose contents the caller fills at once.
    init(uninitializedCount count: Int) {
        self.count = max(count, 0)
        pointer = .allocate(capacity: max(self.count, 1))
        isMapped = false
        mapBase = nil
        mapLength = 0
    }

    /// Heap copy of `values`.
    public convenience init(copying values: UnsafeBufferPointer<Float>) {
        self.init(zeroed: values.count)
        if let b = values.baseAddress, values.count > 0 { pointer.update(from: b, count: values.count) }
    }

    /// Adopts a mapping: `data` lies inside `[base, base + length)`, which is munmap'ed on deinit.
    init(mappedBase base: UnsafeMutableRawPointer, length: Int, data: UnsafeMutablePointer<Float>, count: Int) {
        pointer = data
        self.count = count
        isMapped = true
        mapBase = base
        mapLength = length
    }

    /// Read-only view of the floats.
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    /// Copy into an array.
    public func toArray() -> [Float] { Array(buffer) }

    /// What ``prefaultForWrites(_:)`` did.
    public enum PrefaultOutcome: Sendable, Equatable {
        /// The pages are private, writable copies now (or the range was empty).
        case done
        /// Heap memory: nothing to do.
        case notMapped
        /// The kernel has no MADV_POPULATE_WRITE (before Linux 5.14): the caller may touch the pages instead.
        case unsupported
        case failed(errno: Int32)
    }

    /// Breaks copy-on-write ahead of time on the pages holding floats `floats` of a private file
    /// mapping, so that later writes there take no page fault. `madvise(MADV_POPULATE_WRITE)`:
    /// the kernel faults each page in writable, as a write would, without writing anything, so
    /// no value changes and it is safe while other threads read or write these floats (the
    /// kernel serialises the copy of a page with faults on it; a thread writing the page
    /// meanwhile faults and writes into the private copy). Costs memory: each page becomes a
    /// private copy (resident, not shared with the page cache).
    public func prefaultForWrites(_ floats: Range<Int>) -> PrefaultOutcome {
        guard isMapped else { return .notMapped }
        let lo = max(0, floats.lowerBound), hi = min(count, floats.upperBound)
        guard lo < hi else { return .done }
        let page = UInt(max(4096, sysconf(Int32(_SC_PAGESIZE))))
        // Rounding down stays inside the mapping: it starts on a page boundary (mapBase).
        let start = UInt(bitPattern: UnsafeRawPointer(pointer + lo)) & ~(page - 1)
        let end = UInt(bitPattern: UnsafeRawPointer(pointer + hi))
        guard let address = UnsafeMutableRawPointer(bitPattern: start) else { return .done }
        let madvPopulateWrite: Int32 = 23   // MADV_POPULATE_WRITE (Linux 5.14, <linux/mman.h>)
        while true {
            if madvise(address, Int(end - start), madvPopulateWrite) == 0 { return .done }
            let e = errno
            if e == EINTR || e == EAGAIN { continue }
            return e == EINVAL ? .unsupported : .failed(errno: e)
        }
    }

    deinit {
        if let mapBase {
            munmap(mapBase, mapLength)
        } else {
            pointer.deallocate()
        }
    }
}
