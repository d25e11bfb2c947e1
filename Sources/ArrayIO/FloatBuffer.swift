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

    deinit {
        if let mapBase {
            munmap(mapBase, mapLength)
        } else {
            pointer.deallocate()
        }
    }
}
