import ArrayIO
import CPrefetch
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// What ``ParameterStore/prefaultMappedTables(stepBytes:populateWrite:shouldStop:)`` did.
public struct PrefaultReport: Sendable, Equatable {
    /// Bytes of mapped table values made private and writable.
    public var bytes: Int
    /// "populate-write" (madvise), "touch" (writes under the write lock), or "none".
    public var method: String
    /// Why it stopped early, if it did.
    public var failure: String?
}

extension ParameterStore {
    /// Value buffers of file-mapped tables that updates write into in place: fixed f32 tables
    /// and the hashed f32 bases of key-value tables (a sorted base is never written).
    var mappedWritableBuffers: [FloatBuffer] {
        tables.compactMap { t -> FloatBuffer? in
            switch t {
            case .fixed(let f): return f.buffer.isMapped ? f.buffer : nil
            case .keyValue(let kv): return kv.base.flatMap { $0.isMapped ? $0 : nil }
            case .fixedBF16: return nil
            }
        }
    }

    /// Bytes of the table values ``prefaultMappedTables(stepBytes:populateWrite:shouldStop:)`` would fault in.
    public var mappedWritableTableBytes: Int { mappedWritableBuffers.reduce(0) { $0 + $1.count * 4 } }

    /// Takes the copy-on-write page faults of file-mapped tables ahead of the first updates, in
    /// `stepBytes` steps (the writer would otherwise take one per first write to each page).
    /// Meant for a background thread while updates already apply. No value changes.
    ///
    /// Safe against the concurrent writer and readers: each step is either
    /// `madvise(MADV_POPULATE_WRITE)`, which writes nothing (see
    /// ``FloatBuffer/prefaultForWrites(_:)``), or, on a kernel without it, a rewrite of one byte
    /// per page with its own value done under this store's write lock. Every write of table rows
    /// by ``apply(_:options:)`` happens under that lock too, so no row write can fall between
    /// the read and the write of a touched byte, and no reader sees it mid-way; a step holds the
    /// lock for one step's faults only (1 MiB: 256 pages).
    /// `populateWrite` false skips madvise and touches (the fallback; for tests).
    public func prefaultMappedTables(stepBytes: Int = 1 << 20, populateWrite: Bool = true,
                                     shouldStop: () -> Bool = { false }) -> PrefaultReport {
        let buffers = mappedWritableBuffers
        let stepFloats = max(1024, stepBytes / 4)
        let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
        var report = PrefaultReport(bytes: 0, method: buffers.isEmpty ? "none" : (populateWrite ? "populate-write" : "touch"), failure: nil)
        var populate = populateWrite
        for buffer in buffers {
            var from = 0
            while from < buffer.count {
                if shouldStop() {
                    report.failure = "stopped"
                    return report
                }
                let to = min(buffer.count, from + stepFloats)
                if populate {
                    switch buffer.prefaultForWrites(from..<to) {
                    case .done, .notMapped:
                        break
                    case .unsupported:
                        populate = false
                        report.method = "touch"
                    case .failed(let e):
                        report.failure = "madvise(MADV_POPULATE_WRITE) failed: errno \(e)"
                        return report
                    }
                }
                if !populate {
                    lock.withWriteLock {
                        odl_touch_pages_for_write(UnsafeMutableRawPointer(buffer.pointer + from), (to - from) * 4, page)
                    }
                }
                report.bytes += (to - from) * 4
                from = to
            }
        }
        return report
    }
}
