#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data of an uncompressed `.npy` file mapped read-only and shared (`PROT_READ`,
/// `MAP_SHARED`): pages come from the page cache on first touch and can be dropped from the
/// process again (``release()``) without losing anything, which bounds resident memory for
/// tables bigger than RAM. Writing through it is impossible (the pages are read-only).
///
/// `@unchecked Sendable`: every stored property is a `let`; the mapped bytes never change
/// (read-only mapping of a file this process does not write).
public final class ReadOnlyMap: @unchecked Sendable {
    /// The parsed header.
    public let header: NpyHeader
    /// First byte of the data.
    public let data: UnsafeRawPointer
    /// Bytes of data (`elementCount * byteSize`).
    public let byteCount: Int
    /// The file mapped.
    public let path: String
    private let mapBase: UnsafeMutableRawPointer
    private let mapLength: Int

    /// Maps `path` (an uncompressed `.npy` of `dtype`) and checks its size against its header.
    public init(npy path: String, dtype: NpyDType) throws(NpyError) {
        guard !path.hasSuffix(".gz") else { throw NpyError(path: path, message: "a compressed file cannot be memory-mapped") }
        let h = try Npy.readHeader(path: path)
        guard h.dtype == dtype else { throw NpyError(path: path, message: "dtype \(h.dtype.rawValue), expected \(dtype.rawValue)") }
        guard h.dataOffset % dtype.byteSize == 0 else {
            throw NpyError(path: path, message: "data offset \(h.dataOffset) is not aligned to \(dtype.byteSize) bytes")
        }
        let need = h.elementCount * dtype.byteSize
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw NpyError(path: path, message: "cannot open: \(FileIO.errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw NpyError(path: path, message: "cannot stat: \(FileIO.errnoText())") }
        let size = Int(st.st_size)
        if size - h.dataOffset != need {
            throw NpyError(path: path, message: "data of shape \(h.shape) needs \(need) bytes, file has \(size - h.dataOffset)")
        }
        guard let base = mmap(nil, max(size, 1), PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw NpyError(path: path, message: "mmap failed: \(FileIO.errnoText())")
        }
        header = h
        mapBase = base
        mapLength = max(size, 1)
        data = UnsafeRawPointer(base + h.dataOffset)
        byteCount = need
        self.path = path
    }

    deinit { munmap(mapBase, mapLength) }

    /// Tells the kernel accesses are random (no read-around on a page fault: one cold lookup
    /// reads one page, not 128 KiB).
    public func adviseRandom() { _ = madvise(mapBase, mapLength, Int32(MADV_RANDOM)) }

    /// Starts reading the pages of `[offset, offset + length)` of the data in the background
    /// (returns before the reads complete).
    @inline(__always)
    public func prefetch(offset: Int, length: Int) {
        let page = ReadOnlyMap.pageSize
        let start = (Int(bitPattern: data) + offset) & ~(page - 1)
        let end = Int(bitPattern: data) + offset + length
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Int32(MADV_WILLNEED))
    }

    /// Drops every page of the mapping from this process (they stay in the page cache while
    /// the system has room); later reads fault them in again. Returns the bytes released.
    @discardableResult
    public func release() -> Int {
        _ = madvise(mapBase, mapLength, Int32(MADV_DONTNEED))
        return mapLength
    }

    /// Drops the pages of `[offset, offset + length)` of the data from the process.
    public func release(offset: Int, length: Int) {
        let page = ReadOnlyMap.pageSize
        let start = (Int(bitPattern: data) + offset) & ~(page - 1)
        let end = Int(bitPattern: data) + offset + length
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Int32(MADV_DONTNEED))
    }

    /// The `size`-aligned window of the mapping around data byte `offset` (`size` a power of two),
    /// clipped to the mapping: releasing it never touches memory outside this map.
    @inline(__always)
    public func window(around offset: Int, size: Int) -> MappedWindow {
        let base = Int(bitPattern: mapBase), a = Int(bitPattern: data) + offset
        let start = max(a & ~(size - 1), base)
        return MappedWindow(start: start, end: min((a & ~(size - 1)) + size, base + mapLength))
    }

    /// The system page size.
    public static let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A page-aligned address range inside one read-only mapping (see ``ReadOnlyMap/window(around:size:)``).
public struct MappedWindow: Sendable, Comparable {
    public let start: Int
    public let end: Int

    public static func < (a: MappedWindow, b: MappedWindow) -> Bool { a.start < b.start }

    /// Drops the pages of `windows` from the process (each distinct start once); sorts `windows`.
    public static func release(_ windows: inout [MappedWindow]) {
        windows.sort()
        var last = -1
        for w in windows where w.start != last {
            _ = madvise(UnsafeMutableRawPointer(bitPattern: w.start), w.end - w.start, Int32(MADV_DONTNEED))
            last = w.start
        }
        windows.removeAll(keepingCapacity: true)
    }
}
