import ArrayIO
import CPrefetch
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Open-addressing hash index (linear probing) from an Int64 key to a row number. Each slot is
/// two words, key then row (-1 = empty), so a probe touches one cache line; a big index asks
/// for transparent huge pages (one TLB entry per 2 MiB instead of per 4 KiB). Batches probe
/// with a look-ahead: the slot of a key a few places ahead is loaded early, so the cache misses
/// of several keys overlap.
///
/// `@unchecked Sendable`: it owns raw memory. It is mutated only by the single writer of a
/// ``ParameterStore`` (under its write lock, or before it is published to readers); readers only
/// call ``find(_:)`` under the read lock.
final class KVIndex: @unchecked Sendable {
    let capacity: Int
    let mask: Int
    /// `2 * capacity` words: key, row.
    private let words: UnsafeMutablePointer<Int64>
    private let byteCount: Int
    private(set) var count = 0
    /// Keys whose home slot is prefetched ahead while a message's rows are written (64 measured
    /// best of 8/16/32/64 on this VM's 1 GB index, within its run-to-run noise).
    static let insertLookAhead = 64

    init(capacity requested: Int) {
        var c = 16
        while c < requested { c <<= 1 }
        capacity = c
        mask = c - 1
        byteCount = 16 * c
        var raw: UnsafeMutableRawPointer?
        let huge = 2 << 20
        guard posix_memalign(&raw, byteCount >= huge ? huge : 64, byteCount) == 0, let raw else {
            fatalError("out of memory: a hash index of \(c) slots (\(16 * c) bytes)")
        }
        if byteCount >= huge { _ = madvise(raw, byteCount, Int32(MADV_HUGEPAGE)) }
        words = raw.bindMemory(to: Int64.self, capacity: 2 * c)
        for i in 0..<c {
            words[2 * i] = 0
            words[2 * i + 1] = -1
        }
    }

    deinit { free(words) }

    @inline(__always)
    static func hash(_ k: Int64) -> Int {
        var z = UInt64(bitPattern: k) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: z ^ (z >> 31))
    }

    @inline(__always) func key(at slot: Int) -> Int64 { words[2 * slot] }
    @inline(__always) func row(at slot: Int) -> Int { Int(words[2 * slot + 1]) }
    @inline(__always) func setRow(at slot: Int, _ row: Int) { words[2 * slot + 1] = Int64(row) }

    /// Asks the cache for the home slot of `key` (a hint: no load, no fault).
    @inline(__always)
    func prefetch(_ key: Int64) { odl_prefetch(words + 2 * (KVIndex.hash(key) & mask)) }

    /// Loads the home slot of `key` (its cache line comes in while other work goes on).
    @inline(__always)
    func touch(_ key: Int64) -> Int64 { words[2 * (KVIndex.hash(key) & mask) + 1] }

    /// Row of `key`, or -1.
    @inline(__always)
    func find(_ key: Int64) -> Int {
        var i = KVIndex.hash(key) & mask
        while true {
            let r = words[2 * i + 1]
            if r < 0 { return -1 }
            if words[2 * i] == key { return Int(r) }
            i = (i + 1) & mask
        }
    }

    /// Slot holding `key`, or -1.
    func slot(of key: Int64) -> Int {
        var i = KVIndex.hash(key) & mask
        while true {
            if words[2 * i + 1] < 0 { return -1 }
            if words[2 * i] == key { return i }
            i = (i + 1) & mask
        }
    }

    /// Inserts a key known to be absent. The caller keeps the load factor below 1.
    @inline(__always)
    func insertNew(_ key: Int64, row: Int) {
        var i = KVIndex.hash(key) & mask
        while words[2 * i + 1] >= 0 { i = (i + 1) & mask }
        words[2 * i] = key
        words[2 * i + 1] = Int64(row)
        count += 1
    }

    /// Row of `key` if present; otherwise inserts `key` with `row` and returns -1 (one probe
    /// sequence). The caller keeps the load factor below 1.
    @inline(__always)
    func upsert(_ key: Int64, row: Int) -> Int {
        var i = KVIndex.hash(key) & mask
        while true {
            let r = words[2 * i + 1]
            if r < 0 {
                words[2 * i] = key
                words[2 * i + 1] = Int64(row)
                count += 1
                return -1
            }
            if words[2 * i] == key { return Int(r) }
            i = (i + 1) & mask
        }
    }

    /// Whether `extra` more keys fit under the 0.7 load factor.
    func fits(_ extra: Int) -> Bool { (count + extra) * 10 <= capacity * 7 }

    /// A larger copy holding every key of `self` plus room for `extra` more (at least twice the
    /// capacity). Re-inserts in batches with look-ahead.
    func grown(forAdditional extra: Int) -> KVIndex {
        let next = KVIndex(capacity: max((count + extra) * 10 / 7 + 16, 2 * capacity))
        var pendingKeys: [Int64] = []
        var pendingRows: [Int] = []
        pendingKeys.reserveCapacity(64)
        pendingRows.reserveCapacity(64)
        var sink: Int64 = 0
        func flush() {
            for k in pendingKeys { sink &+= next.touch(k) }
            for (k, r) in zip(pendingKeys, pendingRows) { next.insertNew(k, row: r) }
            pendingKeys.removeAll(keepingCapacity: true)
            pendingRows.removeAll(keepingCapacity: true)
        }
        for i in 0..<capacity where words[2 * i + 1] >= 0 {
            pendingKeys.append(words[2 * i])
            pendingRows.append(Int(words[2 * i + 1]))
            if pendingKeys.count == 64 { flush() }
        }
        flush()
        if sink == Int64.min { next.count += 0 }
        return next
    }
}

/// Rows appended to a key-value table after its base: `KVTable.chunkRows` rows of values and
/// their keys, allocated (and faulted in: zeroed) by the writer outside the write lock and
/// never moved.
///
/// `@unchecked Sendable`: owns raw memory written only by the ``ParameterStore`` writer under
/// its write lock; readers read it under the read lock.
final class KVChunk: @unchecked Sendable {
    /// f32 rows (empty in a bf16 table).
    let values: FloatBuffer
    /// bf16 rows (empty in an f32 table).
    let halves: BF16Buffer
    let keys: UnsafeMutablePointer<Int64>

    init(dim: Int, dtype: EmbeddingDType) {
        values = FloatBuffer(zeroed: dtype == .f32 ? KVTable.chunkRows * dim : 0)
        halves = BF16Buffer(zeroed: dtype == .bf16 ? KVTable.chunkRows * dim : 0)
        keys = .allocate(capacity: KVTable.chunkRows)
        keys.initialize(repeating: 0, count: KVTable.chunkRows)
    }

    deinit { keys.deallocate() }
}

/// Storage of a key-value table: rows never move once written. Rows `0..<baseRows` are the
/// base: in memory or a private memory map of the exported values, indexed by the in-memory
/// hash index; or, for a table with sorted keys too big for that (``SortedKeyBase``), read-only
/// maps searched through fences. Later rows live in fixed-size chunks appended as keys are
/// inserted, indexed by the hash index. Over a sorted base, an update of a base key writes a
/// new chunk row that shadows the base row (the base is never written).
///
/// Rows are f32 or bf16 (``dtype``, one for the whole table). A bf16 table rounds every row
/// written (base at load, updates on apply); a table over a sorted base is always f32 (its
/// base is a map of the f32 file, and its update rows stay f32 to match).
///
/// `@unchecked Sendable`: mutated only by the single writer of a ``ParameterStore`` under its
/// write lock (or before publication); readers use it under the read lock.
package final class KVTable: @unchecked Sendable {
    static let chunkRows = 65_536
    let dim: Int
    /// How the rows are stored.
    let dtype: EmbeddingDType
    /// Base values (hashed f32 base), or nil over a sorted base or in a bf16 table.
    let base: FloatBuffer?
    /// Base values of a bf16 table, else nil.
    let base16: BF16Buffer?
    /// The sorted, memory-mapped base, or nil.
    let sorted: SortedKeyBase?
    let baseRows: Int
    /// Keys of the base rows (hashed base only).
    private let baseKeys: [Int64]
    private(set) var chunks: [KVChunk] = []
    private(set) var index: KVIndex
    /// Rows appended after the base.
    private(set) var extraRows = 0
    /// Keys reachable (a key counts once however many rows it had).
    private(set) var keyCount: Int

    var rowCount: Int { baseRows + extraRows }

    /// Table holding `keys` with values `values` (`keys.count * dim` floats, adopted, not copied).
    /// A repeated key keeps its last row's values (its earlier rows become unreachable).
    package convenience init(dim: Int, keys: [Int64], values: FloatBuffer) {
        self.init(dim: dim, keys: keys, f32: values, bf16: nil)
    }

    /// bf16 table holding `keys` with values `values` (`keys.count * dim`, adopted, not copied).
    package convenience init(dim: Int, keys: [Int64], halves: BF16Buffer) {
        self.init(dim: dim, keys: keys, f32: nil, bf16: halves)
    }

    private init(dim: Int, keys: [Int64], f32: FloatBuffer?, bf16: BF16Buffer?) {
        self.dim = dim
        dtype = bf16 == nil ? .f32 : .bf16
        base = f32
        base16 = bf16
        sorted = nil
        baseRows = keys.count
        baseKeys = keys
        index = KVIndex(capacity: keys.count * 10 / 7 + 16)
        for (r, k) in keys.enumerated() {
            let slot = index.slot(of: k)
            if slot >= 0 { index.setRow(at: slot, r) } else { index.insertNew(k, row: r) }
        }
        keyCount = index.count
    }

    /// Table over a sorted memory-mapped base (no hash index of the base rows).
    package init(sorted: SortedKeyBase) {
        dim = sorted.dim
        dtype = .f32
        base = nil
        base16 = nil
        self.sorted = sorted
        baseRows = sorted.count
        baseKeys = []
        index = KVIndex(capacity: 16)
        keyCount = sorted.count
    }

    /// Key of row `row` (any row below ``rowCount``).
    func key(ofRow row: Int) -> Int64 {
        if row >= baseRows {
            let r = row - baseRows
            return chunks[r / KVTable.chunkRows].keys[r % KVTable.chunkRows]
        }
        if let sorted { return sorted.keys[row] }
        return baseKeys[row]
    }

    @inline(__always)
    func rowPointer(_ row: Int) -> UnsafeMutablePointer<Float> {
        if row < baseRows {
            if let base { return base.pointer + row * dim }
            // Read-only memory: only readers get base rows of a sorted base (``set`` never writes them).
            return UnsafeMutablePointer(mutating: sorted.unsafelyUnwrapped.values(row))
        }
        let r = row - baseRows
        return chunks[r / KVTable.chunkRows].values.pointer + (r % KVTable.chunkRows) * dim
    }

    /// Row `row` of a bf16 table.
    @inline(__always)
    func rowPointer16(_ row: Int) -> UnsafeMutablePointer<UInt16> {
        if row < baseRows { return base16.unsafelyUnwrapped.pointer + row * dim }
        let r = row - baseRows
        return chunks[r / KVTable.chunkRows].halves.pointer + (r % KVTable.chunkRows) * dim
    }

    /// Row values of `key` in a bf16 table, nil when absent.
    @inline(__always)
    func lookup16(_ key: Int64) -> UnsafePointer<UInt16>? {
        let r = index.find(key)
        return r >= 0 ? UnsafePointer(rowPointer16(r)) : nil
    }

    /// Row `row` as f32 (widened in a bf16 table).
    func rowValues(_ row: Int) -> [Float] {
        if dtype == .bf16 {
            let p = rowPointer16(row)
            return (0..<dim).map { BF16.widen(p[$0]) }
        }
        return Array(UnsafeBufferPointer(start: rowPointer(row), count: dim))
    }

    /// Bytes of row values held: the base (in memory or mapped) and the allocated chunks.
    var valueBytes: Int {
        let b = dtype.bytesPerValue
        let baseBytes = sorted.map { $0.count * $0.dim * 4 } ?? baseRows * dim * b
        return baseBytes + chunks.count * KVTable.chunkRows * dim * b
    }

    /// Row values of `key`, nil when absent (f32 tables).
    @inline(__always)
    func lookup(_ key: Int64) -> UnsafePointer<Float>? {
        let r = index.find(key)
        if r >= 0 { return UnsafePointer(rowPointer(r)) }
        if let sorted {
            let b = sorted.find(key)
            if b >= 0 { return sorted.values(b) }
        }
        return nil
    }

    /// Writer side, outside the lock: what `insert` will need for `newKeys` more rows.
    func prepare(newKeys: Int) -> (index: KVIndex?, chunks: [KVChunk]) {
        let idx = index.fits(newKeys) ? nil : index.grown(forAdditional: newKeys)
        var capacityRows = baseRows + chunks.count * KVTable.chunkRows
        var extra: [KVChunk] = []
        while capacityRows < rowCount + newKeys {
            extra.append(KVChunk(dim: dim, dtype: dtype))
            capacityRows += KVTable.chunkRows
        }
        return (idx, extra)
    }

    /// Writer side, under the write lock: install what `prepare` built.
    func install(index newIndex: KVIndex?, chunks extra: [KVChunk]) {
        if let newIndex { index = newIndex }
        chunks.append(contentsOf: extra)
    }

    /// Writer side, under the write lock: the row number `key`'s values go to, appending a row
    /// (and indexing it) when the key has none in the hash index. `inserted` is true for a key
    /// the table did not hold at all. Requires room prepared by `prepare`/`install`.
    @inline(__always)
    private func destination(_ key: Int64) -> (row: Int, inserted: Bool) {
        let row = rowCount
        let existing = index.upsert(key, row: row)
        if existing >= 0 { return (existing, false) }
        let r = row - baseRows
        chunks[r / KVTable.chunkRows].keys[r % KVTable.chunkRows] = key
        extraRows += 1
        let inserted = sorted.map { $0.find(key) < 0 } ?? true
        if inserted { keyCount += 1 }
        return (row, inserted)
    }

    /// Writer side, under the write lock: set `key`'s row (inserting it; a bf16 table stores
    /// the values rounded). Returns true when inserted.
    @inline(__always)
    func set(_ key: Int64, values: UnsafePointer<Float>) -> Bool {
        let d = destination(key)
        if dtype == .bf16 {
            BF16.round(values, into: rowPointer16(d.row), count: dim)
        } else {
            rowPointer(d.row).update(from: values, count: dim)
        }
        return d.inserted
    }

    /// Like `set(_:values:)` with the row's `dim` floats read from possibly unaligned bytes.
    @inline(__always)
    func set(_ key: Int64, raw: UnsafeRawPointer) -> Bool {
        let d = destination(key)
        if dtype == .bf16 {
            BF16.round(raw: raw, into: rowPointer16(d.row), count: dim)
        } else {
            UnsafeMutableRawPointer(rowPointer(d.row)).copyMemory(from: raw, byteCount: 4 * dim)
        }
        return d.inserted
    }

    /// Rows currently reachable (a key's latest row), in row order.
    func liveRows() -> [(key: Int64, row: Int)] {
        var out: [(Int64, Int)] = []
        out.reserveCapacity(keyCount)
        for r in 0..<rowCount {
            let k = key(ofRow: r)
            let f = index.find(k)
            if f == r || (f < 0 && sorted != nil && r < baseRows) { out.append((k, r)) }
        }
        return out
    }

    /// Appended rows currently reachable, in row order (over a sorted base: the updated and inserted rows).
    func liveExtraRows() -> [(key: Int64, row: Int)] {
        var out: [(Int64, Int)] = []
        for r in baseRows..<rowCount {
            let k = key(ofRow: r)
            if index.find(k) == r { out.append((k, r)) }
        }
        return out
    }

    /// Starts reading the base pages `ids` need (sorted base only; no lock needed: the base is immutable).
    func prefetch(_ ids: UnsafeBufferPointer<Int64>, windows: inout [MappedWindow]) { sorted?.prefetch(ids, windows: &windows) }

    /// Drops the mapped base pages from the process (sorted base only); returns the bytes released.
    func releaseMappedPages() -> Int { sorted?.release() ?? 0 }
}
