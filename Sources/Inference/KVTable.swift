import ArrayIO
/// Open-addressing hash index (linear probing) from an Int64 key to a row number.
///
/// `@unchecked Sendable`: it owns raw memory. It is mutated only by the single writer of a
/// ``ParameterStore`` (under its write lock, or before it is published to readers); readers only
/// call ``find(_:)`` under the read lock.
final class KVIndex: @unchecked Sendable {
    let capacity: Int
    let mask: Int
    let keys: UnsafeMutablePointer<Int64>
    let rows: UnsafeMutablePointer<Int32>   // -1 = empty slot
    private(set) var count = 0

    init(capacity requested: Int) {
        var c = 16
        while c < requested { c <<= 1 }
        capacity = c
        mask = c - 1
        keys = .allocate(capacity: c)
        keys.initialize(repeating: 0, count: c)
        rows = .allocate(capacity: c)
        rows.initialize(repeating: -1, count: c)
    }

    deinit {
        keys.deallocate()
        rows.deallocate()
    }

    @inline(__always)
    static func hash(_ k: Int64) -> Int {
        var z = UInt64(bitPattern: k) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: z ^ (z >> 31))
    }

    /// Row of `key`, or -1.
    @inline(__always)
    func find(_ key: Int64) -> Int {
        var i = KVIndex.hash(key) & mask
        while true {
            let r = rows[i]
            if r < 0 { return -1 }
            if keys[i] == key { return Int(r) }
            i = (i + 1) & mask
        }
    }

    /// Slot holding `key`, or -1.
    func slot(of key: Int64) -> Int {
        var i = KVIndex.hash(key) & mask
        while true {
            if rows[i] < 0 { return -1 }
            if keys[i] == key { return i }
            i = (i + 1) & mask
        }
    }

    /// Inserts a key known to be absent. The caller keeps the load factor below 1.
    func insertNew(_ key: Int64, row: Int) {
        var i = KVIndex.hash(key) & mask
        while rows[i] >= 0 { i = (i + 1) & mask }
        keys[i] = key
        rows[i] = Int32(truncatingIfNeeded: row)
        count += 1
    }

    /// Whether `extra` more keys fit under the 0.7 load factor.
    func fits(_ extra: Int) -> Bool { (count + extra) * 10 <= capacity * 7 }

    /// A larger copy holding every key of `self` plus room for `extra` more.
    func grown(forAdditional extra: Int) -> KVIndex {
        let next = KVIndex(capacity: (count + extra) * 10 / 7 + 16)
        for i in 0..<capacity where rows[i] >= 0 { next.insertNew(keys[i], row: Int(rows[i])) }
        return next
    }
}

/// Storage of a key-value table: rows never move once written. Rows `0..<baseRows` live in
/// `base` (typically a private memory map of the exported values), later rows in fixed-size
/// heap chunks appended as keys are inserted.
///
/// `@unchecked Sendable`: mutated only by the single writer of a ``ParameterStore`` under its
/// write lock (or before publication); readers use it under the read lock.
package final class KVTable: @unchecked Sendable {
    static let chunkRows = 65_536
    let dim: Int
    let base: FloatBuffer
    let baseRows: Int
    private(set) var chunks: [FloatBuffer] = []
    private(set) var index: KVIndex
    /// Key of each row, in row order.
    private(set) var rowKeys: [Int64]

    var rowCount: Int { rowKeys.count }

    /// Table holding `keys` with values `values` (`keys.count * dim` floats, adopted, not copied).
    /// A repeated key keeps its last row's values (its earlier rows become unreachable).
    package init(dim: Int, keys: [Int64], values: FloatBuffer) {
        self.dim = dim
        base = values
        baseRows = keys.count
        rowKeys = keys
        index = KVIndex(capacity: keys.count * 10 / 7 + 16)
        for (r, k) in keys.enumerated() {
            let slot = index.slot(of: k)
            if slot >= 0 { index.rows[slot] = Int32(truncatingIfNeeded: r) } else { index.insertNew(k, row: r) }
        }
    }

    @inline(__always)
    func rowPointer(_ row: Int) -> UnsafeMutablePointer<Float> {
        if row < baseRows { return base.pointer + row * dim }
        let r = row - baseRows
        return chunks[r / KVTable.chunkRows].pointer + (r % KVTable.chunkRows) * dim
    }

    /// Row values of `key`, nil when absent.
    @inline(__always)
    func lookup(_ key: Int64) -> UnsafeMutablePointer<Float>? {
        let r = index.find(key)
        return r < 0 ? nil : rowPointer(r)
    }

    /// Writer side, outside the lock: what `insert` will need for `newKeys` more rows.
    func prepare(newKeys: Int) -> (index: KVIndex?, chunks: [FloatBuffer]) {
        let idx = index.fits(newKeys) ? nil : index.grown(forAdditional: newKeys)
        var capacityRows = baseRows + chunks.count * KVTable.chunkRows
        var extra: [FloatBuffer] = []
        while capacityRows < rowCount + newKeys {
            extra.append(FloatBuffer(zeroed: KVTable.chunkRows * dim))
            capacityRows += KVTable.chunkRows
        }
        return (idx, extra)
    }

    /// Writer side, under the write lock: install what `prepare` built.
    func install(index newIndex: KVIndex?, chunks extra: [FloatBuffer]) {
        if let newIndex { index = newIndex }
        chunks.append(contentsOf: extra)
    }

    /// Writer side, under the write lock: set `key`'s row (inserting it). Returns true when inserted.
    /// Requires room prepared by `prepare`/`install`.
    @inline(__always)
    func set(_ key: Int64, values: UnsafePointer<Float>) -> Bool {
        let r = index.find(key)
        if r >= 0 {
            rowPointer(r).update(from: values, count: dim)
            return false
        }
        let row = rowKeys.count
        rowKeys.append(key)
        index.insertNew(key, row: row)
        rowPointer(row).update(from: values, count: dim)
        return true
    }

    /// Like `set(_:values:)` with the row's `dim` floats read from possibly unaligned bytes.
    @inline(__always)
    func set(_ key: Int64, raw: UnsafeRawPointer) -> Bool {
        let r = index.find(key)
        let inserted = r < 0
        let row = inserted ? rowKeys.count : r
        if inserted {
            rowKeys.append(key)
            index.insertNew(key, row: row)
        }
        UnsafeMutableRawPointer(rowPointer(row)).copyMemory(from: raw, byteCount: 4 * dim)
        return inserted
    }

    /// Rows currently reachable through the index (a key's latest row), in row order.
    func liveRows() -> [(key: Int64, row: Int)] {
        var out: [(Int64, Int)] = []
        out.reserveCapacity(index.count)
        for (r, k) in rowKeys.enumerated() where index.find(k) == r { out.append((k, r)) }
        return out
    }
}
