import ArrayIO
import Synchronization

/// Immutable dense parameters: readers take a reference once per prediction; the writer
/// replaces the whole object (sharing unchanged arrays) for each dense message.
public final class DenseSnapshot: Sendable {
    /// Values by ``DenseVariableSpec/id``.
    public let values: [[Float]]
    /// The forward pass's prepared layers; nil when the spec has no DeepFM layer variables.
    let network: PreparedNetwork?

    init(spec: ModelSpec, values: [[Float]]) {
        self.values = values
        network = try? PreparedNetwork(spec: spec, values: values)
    }
}

/// A fixed-size embedding table (`rows * dim` floats, heap or private memory map).
///
/// `@unchecked Sendable`: its floats are written only by the ``ParameterStore`` writer under
/// the write lock; readers read them under the read lock. Everything else is `let`.
package final class FixedTable: @unchecked Sendable {
    let rows: Int
    let dim: Int
    let buffer: FloatBuffer
    package init(rows: Int, dim: Int, buffer: FloatBuffer) {
        self.rows = rows
        self.dim = dim
        self.buffer = buffer
    }
}

/// A fixed-size embedding table stored as bf16 (`rows * dim` values, heap), see ``BF16``.
///
/// `@unchecked Sendable`: like ``FixedTable``, its values are written only by the
/// ``ParameterStore`` writer under the write lock and read under the read lock.
package final class FixedBF16Table: @unchecked Sendable {
    let rows: Int
    let dim: Int
    let buffer: BF16Buffer
    package init(rows: Int, dim: Int, buffer: BF16Buffer) {
        self.rows = rows
        self.dim = dim
        self.buffer = buffer
    }
}

/// One table of the store.
package enum StoredTable: Sendable {
    case fixed(FixedTable)
    case fixedBF16(FixedBF16Table)
    case keyValue(KVTable)

    /// How the table's rows are stored.
    var dtype: EmbeddingDType {
        switch self {
        case .fixed: return .f32
        case .fixedBF16: return .bf16
        case .keyValue(let t): return t.dtype
        }
    }

    /// Bytes of row values held (heap or mapped; key-value hash indexes not counted).
    var valueBytes: Int {
        switch self {
        case .fixed(let t): return t.rows * t.dim * 4
        case .fixedBF16(let t): return t.rows * t.dim * 2
        case .keyValue(let t): return t.valueBytes
        }
    }
}

/// A model's live parameters: many predicting readers, one writer applying update messages.
///
/// Concurrency design: a writer-preferring reader-writer lock guards the embedding rows and
/// the reference to the current ``DenseSnapshot``. A prediction takes the read lock once,
/// grabs the dense snapshot and gathers all its embedding rows, then releases it and runs the
/// DNN on its own copies, so it sees every message wholly or not at all. ``apply(_:options:)``
/// validates the message and prepares everything that can be prepared (new dense snapshot,
/// grown hash index, new row chunks) before taking the write lock; under it, it only swaps the
/// snapshot reference and copies rows. Readers therefore wait at most one message's row copy.
///
/// `@unchecked Sendable`: all mutable state (`dense`, table rows, kv indexes and chunk lists)
/// is written only while holding `lock` for writing (and `writer`, which serializes writers),
/// and read by readers only while holding `lock` for reading. The writer may read mutable
/// state without `lock` because it is the only mutator and it holds `writer`. The one
/// exception is the internal test flag `skipWriteLockForTesting`, a deliberate violation used
/// only by the concurrency test's negative control.
public final class ParameterStore: @unchecked Sendable {
    public let spec: ModelSpec
    /// Cheap identity of the spec's tables and variables (checked by predictors per call).
    let specFingerprint: Int
    let lock = RWLock()
    private let writer = Mutex<Void>(())
    private var dense: DenseSnapshot
    let tables: [StoredTable]
    /// Whether any key-value table has a sorted, memory-mapped base (``SortedKeyBase``).
    public let hasSortedBase: Bool
    /// How embedding rows were asked to be stored (a table over a sorted base stays f32).
    public let embeddingDType: EmbeddingDType
    /// Test hook: apply sparse rows without the write lock (negative control of the
    /// concurrency test only; never set elsewhere).
    nonisolated(unsafe) var skipWriteLockForTesting = false

    /// A store holding a copy of `parameters`, checked against `spec`; with `embeddingDType`
    /// bf16 the embedding rows are stored rounded to bf16 (dense parameters stay f32).
    public convenience init(spec: ModelSpec, parameters: ModelParameters,
                            embeddingDType: EmbeddingDType = .f32) throws(ParameterStoreError) {
        var tables: [StoredTable] = []
        guard parameters.tables.count == spec.embeddings.count else {
            throw .tableCount(expected: spec.embeddings.count, got: parameters.tables.count)
        }
        for (e, t) in zip(spec.embeddings, parameters.tables) {
            switch t {
            case .fixed(let rows, let dim, let values):
                guard let specRows = e.rows else { throw .tableKind(embedding: e.name, expectedKeyValue: true) }
                guard rows == specRows, dim == e.dim, values.count == rows * dim else {
                    throw .tableSize(embedding: e.name, expected: "[\(specRows), \(e.dim)]",
                                     got: "[\(rows), \(dim)] with \(values.count) values")
                }
                if embeddingDType == .bf16 {
                    let buf = values.withUnsafeBufferPointer { BF16Buffer(rounding: $0) }
                    tables.append(.fixedBF16(FixedBF16Table(rows: rows, dim: dim, buffer: buf)))
                    continue
                }
                let buf = values.withUnsafeBufferPointer { FloatBuffer(copying: $0) }
                tables.append(.fixed(FixedTable(rows: rows, dim: dim, buffer: buf)))
            case .keyValue(let dim, let keys, let values):
                guard e.rows == nil else { throw .tableKind(embedding: e.name, expectedKeyValue: false) }
                guard dim == e.dim, values.count == keys.count * dim else {
                    throw .tableSize(embedding: e.name, expected: "width \(e.dim), keys x width values",
                                     got: "width \(dim), \(keys.count) keys, \(values.count) values")
                }
                if embeddingDType == .bf16 {
                    let buf = values.withUnsafeBufferPointer { BF16Buffer(rounding: $0) }
                    tables.append(.keyValue(KVTable(dim: dim, keys: keys, halves: buf)))
                    continue
                }
                let buf = values.withUnsafeBufferPointer { FloatBuffer(copying: $0) }
                tables.append(.keyValue(KVTable(dim: dim, keys: keys, values: buf)))
            }
        }
        try self.init(spec: spec, dense: parameters.dense, tables: tables, embeddingDType: embeddingDType)
    }

    /// A store over prepared tables (the export loader's zero-copy path). `embeddingDType` is
    /// what the tables were asked to be (reported; each table knows its own).
    package init(spec: ModelSpec, dense: [[Float]], tables: [StoredTable],
                 embeddingDType: EmbeddingDType = .f32) throws(ParameterStoreError) {
        guard dense.count == spec.denseVariables.count else {
            throw .denseCount(expected: spec.denseVariables.count, got: dense.count)
        }
        for (v, values) in zip(spec.denseVariables, dense) where values.count != v.elementCount {
            throw .denseSize(variable: v.name, expected: v.elementCount, got: values.count)
        }
        guard tables.count == spec.embeddings.count else {
            throw .tableCount(expected: spec.embeddings.count, got: tables.count)
        }
        self.spec = spec
        self.specFingerprint = spec.parameterFingerprint
        self.dense = DenseSnapshot(spec: spec, values: dense)
        self.tables = tables
        self.embeddingDType = embeddingDType
        hasSortedBase = tables.contains { if case .keyValue(let t) = $0 { return t.sorted != nil } else { return false } }
    }

    // MARK: reading

    /// Runs `body` under the read lock with the current dense snapshot and the tables.
    /// Keep `body` short (gather rows); never call back into the store from it.
    @inline(__always)
    func withReadAccess<R, E: Error>(_ body: (DenseSnapshot, [StoredTable]) throws(E) -> R) throws(E) -> R {
        try lock.withReadLock { () throws(E) -> R in try body(dense, tables) }
    }

    /// The current dense snapshot.
    public func denseSnapshot() -> DenseSnapshot { lock.withReadLock { dense } }

    /// Current values of dense variable `id` (empty when out of range).
    public func denseValues(id: Int) -> [Float] {
        let d = denseSnapshot()
        return id >= 0 && id < d.values.count ? d.values[id] : []
    }

    /// Current values of the dense variable called `name`.
    public func denseValues(named name: String) -> [Float]? {
        spec.denseVariableId(named: name).map { denseValues(id: $0) }
    }

    /// Current row of `key` in table `embeddingId`; nil for an unknown table, a fixed-table key
    /// out of range, or an absent key-value key.
    public func row(embeddingId: Int, key: Int64) -> [Float]? {
        guard embeddingId >= 0 && embeddingId < tables.count else { return nil }
        return lock.withReadLock { () -> [Float]? in
            switch tables[embeddingId] {
            case .fixed(let t):
                guard key >= 0 && key < Int64(t.rows) else { return nil }
                return Array(UnsafeBufferPointer(start: t.buffer.pointer + Int(key) * t.dim, count: t.dim))
            case .fixedBF16(let t):
                guard key >= 0 && key < Int64(t.rows) else { return nil }
                return t.buffer.toFloats(offset: Int(key) * t.dim, count: t.dim)
            case .keyValue(let t):
                if t.dtype == .bf16 {
                    guard let p = t.lookup16(key) else { return nil }
                    return (0..<t.dim).map { BF16.widen(p[$0]) }
                }
                guard let p = t.lookup(key) else { return nil }
                return Array(UnsafeBufferPointer(start: p, count: t.dim))
            }
        }
    }

    /// Rows of table `embeddingId` (fixed: its size; key-value: keys present).
    public func rowCount(embeddingId: Int) -> Int {
        guard embeddingId >= 0 && embeddingId < tables.count else { return 0 }
        return lock.withReadLock {
            switch tables[embeddingId] {
            case .fixed(let t): return t.rows
            case .fixedBF16(let t): return t.rows
            case .keyValue(let t): return t.keyCount
            }
        }
    }

    /// Whether table `embeddingId` is backed by a memory-mapped file.
    public func isMemoryMapped(embeddingId: Int) -> Bool {
        guard embeddingId >= 0 && embeddingId < tables.count else { return false }
        switch tables[embeddingId] {
        case .fixed(let t): return t.buffer.isMapped
        case .fixedBF16: return false
        case .keyValue(let t): return t.dtype == .bf16 ? false : (t.base?.isMapped ?? true)
        }
    }

    /// Bytes of embedding row values held by every table (heap or mapped; hash indexes not
    /// counted): half as many in bf16 as in f32, apart from tables over a sorted base.
    public var tableBytes: Int {
        lock.withReadLock { tables.reduce(0) { $0 + $1.valueBytes } }
    }

    /// How table `embeddingId`'s rows are stored (nil for an unknown table).
    public func tableDType(embeddingId: Int) -> EmbeddingDType? {
        embeddingId >= 0 && embeddingId < tables.count ? tables[embeddingId].dtype : nil
    }

    /// Drops the pages of every sorted, memory-mapped key-value base from the process's
    /// resident memory (nothing is lost: they are read-only file pages; later lookups read them
    /// again, from the page cache while it holds them). No lock: the bases are immutable.
    /// Returns the bytes of mapping released.
    @discardableResult
    public func releaseMappedPages() -> Int {
        var bytes = 0
        for case .keyValue(let t) in tables { bytes += t.releaseMappedPages() }
        return bytes
    }

    // MARK: writing

    /// Makes room in every key-value table for `rows` more keys: the rows' memory (faulted in
    /// now) and a hash index that holds them without growing. Inserts into that room then cost
    /// no page fault and no re-hash (a fresh page costs about 1 ns a byte on a VM). Returns
    /// the bytes added. Tables keep growing past the room as before.
    @discardableResult
    public func reserveKeyValueRows(_ rows: Int) -> Int {
        guard rows > 0 else { return 0 }
        return writer.withLock { _ in
            var newKeys: [Int: Int] = [:]
            for (id, t) in tables.enumerated() { if case .keyValue = t { newKeys[id] = rows } }
            let room = prepareRoom(newKeys)
            lock.withWriteLock { install(room) }
            return room.reduce(0) { sum, r in
                sum + r.chunks.count * KVTable.chunkRows * ((r.table.dtype == .bf16 ? 2 : 4) * r.table.dim + 8)
                    + (r.index.map { 16 * $0.capacity } ?? 0)
            }
        }
    }

    /// Room built for new keys outside the read/write lock (``KVTable/prepare(newKeys:)``).
    private typealias PreparedRoom = [(table: KVTable, index: KVIndex?, chunks: [KVChunk])]

    /// Writer side, outside the read/write lock: room for `newKeys[id]` more keys in each kv table `id`.
    private func prepareRoom(_ newKeys: [Int: Int]) -> PreparedRoom {
        var room: PreparedRoom = []
        for (id, n) in newKeys where n > 0 {
            if case .keyValue(let t) = tables[id] {
                let p = t.prepare(newKeys: n)
                room.append((t, p.index, p.chunks))
            }
        }
        return room
    }

    /// Writer side, under the write lock: installs what ``prepareRoom(_:)`` built.
    private func install(_ room: PreparedRoom) {
        for r in room { r.table.install(index: r.index, chunks: r.chunks) }
    }

    /// Validates `message` against the spec and applies it atomically (readers see all of it
    /// or none of it). A rejected message changes nothing.
    @discardableResult
    public func apply(_ message: UpdateMessage, options: UpdateOptions = .init()) throws(UpdateError) -> ApplyCounts {
        try UpdateCodec.validate(message, spec: spec, options: options)
        return writer.withLock { _ in applyValidated(message) }
    }

    private func applyValidated(_ message: UpdateMessage) -> ApplyCounts {
        switch message {
        case .dense(let d):
            var values = dense.values
            for v in d.variables { values[Int(v.id)] = v.values }
            let next = DenseSnapshot(spec: spec, values: values)
            lock.withWriteLock { dense = next }
            return ApplyCounts(variables: d.variables.count)
        case .sparse(let s):
            // Outside the lock: room in the kv tables for every key being new (as the wire path).
            var newKeys: [Int: Int] = [:]
            for b in s.blocks {
                if case .keyValue = tables[Int(b.embeddingId)] { newKeys[Int(b.embeddingId), default: 0] += b.keys.count }
            }
            let room = prepareRoom(newKeys)
            let body = { () -> ApplyCounts in
                self.install(room)
                var counts = ApplyCounts()
                for b in s.blocks {
                    b.values.withUnsafeBufferPointer { vals in
                        guard let v = vals.baseAddress else { return }
                        switch self.tables[Int(b.embeddingId)] {
                        case .fixed(let t):
                            for (i, k) in b.keys.enumerated() {
                                (t.buffer.pointer + Int(k) * t.dim).update(from: v + i * t.dim, count: t.dim)
                            }
                            counts.rowsUpdated += b.keys.count
                        case .fixedBF16(let t):
                            for (i, k) in b.keys.enumerated() {
                                BF16.round(v + i * t.dim, into: t.buffer.pointer + Int(k) * t.dim, count: t.dim)
                            }
                            counts.rowsUpdated += b.keys.count
                        case .keyValue(let t):
                            for (i, k) in b.keys.enumerated() {
                                if t.set(k, values: v + i * t.dim) { counts.rowsInserted += 1 } else { counts.rowsUpdated += 1 }
                            }
                        }
                    }
                }
                return counts
            }
            if skipWriteLockForTesting { return body() }
            return lock.withWriteLock(body)
        }
    }

    /// Applies a sparse message straight from its wire bytes, atomically like
    /// ``apply(_:options:)``, copying each row once from `bytes` into the table. `layout` must
    /// come from ``UpdateCodec/sparseLayout(_:spec:options:)`` on these same bytes (that is
    /// where values are checked); the store re-checks what memory safety needs (offsets within
    /// `bytes`, table ids and widths, fixed-table key ranges) and rejects the whole message
    /// otherwise. A rejected message changes nothing.
    @discardableResult
    public func apply(_ layout: SparseWireLayout, bytes: UnsafeRawBufferPointer) throws(UpdateError) -> ApplyCounts {
        try checkFits(layout, bytes)
        #if _endian(big)
        return try apply(.sparse(layout.materialize(bytes)))  // rows need byte swapping: take the array path
        #else
        return try writer.withLock { _ throws(UpdateError) -> ApplyCounts in
            // Outside the read/write lock: check fixed-table keys, size kv tables for their new keys.
            var newKeys: [Int: Int] = [:]
            for b in layout.blocks {
                switch tables[Int(b.embeddingId)] {
                case .fixed(let t):
                    for i in 0..<b.keyCount {
                        let k = layout.key(bytes, b, i)
                        if k < 0 || k >= Int64(t.rows) {
                            throw .keyOutOfRange(embedding: spec.embeddings[Int(b.embeddingId)].name, key: k, rows: t.rows)
                        }
                    }
                case .fixedBF16(let t):
                    for i in 0..<b.keyCount {
                        let k = layout.key(bytes, b, i)
                        if k < 0 || k >= Int64(t.rows) {
                            throw .keyOutOfRange(embedding: spec.embeddings[Int(b.embeddingId)].name, key: k, rows: t.rows)
                        }
                    }
                case .keyValue:
                    // At most every key is new: room for that costs no probe (a key already
                    // held only leaves its prepared row for a later insert).
                    if b.keyCount > 0 { newKeys[Int(b.embeddingId), default: 0] += b.keyCount }
                }
            }
            let room = prepareRoom(newKeys)
            guard let base = bytes.baseAddress else { return ApplyCounts() }
            let body = { () -> ApplyCounts in
                self.install(room)
                var counts = ApplyCounts()
                for b in layout.blocks {
                    let rowBytes = 4 * b.dim
                    switch self.tables[Int(b.embeddingId)] {
                    case .fixed(let t):
                        let dst = UnsafeMutableRawPointer(t.buffer.pointer)
                        for i in 0..<b.keyCount {
                            let k = Int(layout.key(bytes, b, i))
                            (dst + k * rowBytes).copyMemory(from: base + b.valuesOffset + i * rowBytes, byteCount: rowBytes)
                        }
                        counts.rowsUpdated += b.keyCount
                    case .fixedBF16(let t):
                        for i in 0..<b.keyCount {
                            let k = Int(layout.key(bytes, b, i))
                            BF16.round(raw: base + b.valuesOffset + i * rowBytes, into: t.buffer.pointer + k * t.dim, count: t.dim)
                        }
                        counts.rowsUpdated += b.keyCount
                    case .keyValue(let t):
                        let ahead = KVIndex.insertLookAhead
                        for i in 0..<min(ahead, b.keyCount) { t.index.prefetch(layout.key(bytes, b, i)) }
                        for i in 0..<b.keyCount {
                            if i + ahead < b.keyCount { t.index.prefetch(layout.key(bytes, b, i + ahead)) }
                            if t.set(layout.key(bytes, b, i), raw: base + b.valuesOffset + i * rowBytes) {
                                counts.rowsInserted += 1
                            } else {
                                counts.rowsUpdated += 1
                            }
                        }
                    }
                }
                return counts
            }
            if skipWriteLockForTesting { return body() }
            return lock.withWriteLock(body)
        }
        #endif
    }

    /// The memory-safety part of a layout check: every block within `bytes`, known table, right width.
    private func checkFits(_ layout: SparseWireLayout, _ bytes: UnsafeRawBufferPointer) throws(UpdateError) {
        guard layout.byteCount == bytes.count else {
            throw .badBlock(embedding: "-", reason: "layout describes \(layout.byteCount) bytes, message has \(bytes.count)")
        }
        for b in layout.blocks {
            guard b.keyBytes == 8 || b.keyBytes == 4 else {
                throw .badBlock(embedding: "-", reason: "key width \(b.keyBytes)")
            }
            guard b.embeddingId >= 0 && Int(b.embeddingId) < tables.count else { throw .unknownEmbedding(id: b.embeddingId) }
            let e = spec.embeddings[Int(b.embeddingId)]
            let keysEnd = b.keysOffset.addingReportingOverflow(b.keyBytes * b.keyCount)
            let valuesEnd = b.valuesOffset.addingReportingOverflow(4 * b.keyCount * b.dim)
            guard b.dim == e.dim, b.keyCount >= 0, b.keysOffset >= 0, b.valuesOffset >= 0,
                  !keysEnd.overflow, !valuesEnd.overflow, keysEnd.partialValue <= bytes.count, valuesEnd.partialValue <= bytes.count else {
                throw .badBlock(embedding: e.name, reason: "layout block outside the message or of the wrong width")
            }
        }
    }

    // MARK: whole-store views

    /// A 64-bit digest of every parameter value (dense in id order; fixed tables row by row;
    /// key-value tables as an order-independent sum over (key, row) pairs; of a sorted
    /// memory-mapped base only its size and fences, see ``SortedKeyBase``), for bit-exact
    /// comparisons after restart or replay. Holds the read lock for the whole pass (about
    /// 0.2-0.7 s per GB), delaying the writer and, behind it, new predictions: not for a hot path.
    public func checksum() -> UInt64 {
        lock.withReadLock {
            var h = Digest()
            for v in dense.values { h.mix(UInt64(v.count)); v.withUnsafeBufferPointer { h.mix(floats: $0) } }
            for t in tables {
                switch t {
                case .fixed(let f):
                    h.mix(UInt64(f.rows)); h.mix(UInt64(f.dim))
                    h.mix(floats: f.buffer.buffer)
                case .fixedBF16(let f):
                    h.mix(UInt64(f.rows)); h.mix(UInt64(f.dim))
                    h.mix(halves: f.buffer.buffer)
                case .keyValue(let kv):
                    var sum: UInt64 = 0
                    if let sorted = kv.sorted {
                        // Reading every base value would read the whole file: the base counts by its
                        // size and fences (every 512th key); the rows updates wrote count in full.
                        h.mix(UInt64(sorted.count)); h.mix(UInt64(sorted.fences.count))
                        for f in sorted.fences { h.mix(UInt64(bitPattern: f)) }
                    }
                    for (key, row) in (kv.sorted == nil ? kv.liveRows() : kv.liveExtraRows()) {
                        var r = Digest()
                        r.mix(UInt64(bitPattern: key))
                        if kv.dtype == .bf16 {
                            r.mix(halves: UnsafeBufferPointer(start: kv.rowPointer16(row), count: kv.dim))
                        } else {
                            r.mix(floats: UnsafeBufferPointer(start: kv.rowPointer(row), count: kv.dim))
                        }
                        sum &+= r.finish()
                    }
                    h.mix(UInt64(kv.keyCount)); h.mix(sum)
                }
            }
            return h.finish()
        }
    }

    /// A copy of every parameter (key-value rows in insertion order). Holds the read lock while
    /// copying, like ``checksum()``.
    public func snapshotParameters() -> ModelParameters {
        lock.withReadLock {
            var out: [EmbeddingTableValues] = []
            for t in tables {
                switch t {
                case .fixed(let f):
                    out.append(.fixed(rows: f.rows, dim: f.dim, values: f.buffer.toArray()))
                case .fixedBF16(let f):
                    out.append(.fixed(rows: f.rows, dim: f.dim, values: f.buffer.toFloats()))
                case .keyValue(let kv):
                    let live = kv.liveRows()
                    var values: [Float] = []
                    values.reserveCapacity(live.count * kv.dim)
                    for (_, row) in live {
                        if kv.dtype == .bf16 {
                            values.append(contentsOf: kv.rowValues(row))
                        } else {
                            values.append(contentsOf: UnsafeBufferPointer(start: kv.rowPointer(row), count: kv.dim))
                        }
                    }
                    out.append(.keyValue(dim: kv.dim, keys: live.map(\.key), values: values))
                }
            }
            return ModelParameters(dense: dense.values, tables: out)
        }
    }
}

extension ModelSpec {
    /// Hash of table and variable names, ids and shapes (stable within one process).
    var parameterFingerprint: Int {
        var h = Hasher()
        for e in embeddings { h.combine(e.id); h.combine(e.name); h.combine(e.dim); h.combine(e.rows) }
        for v in denseVariables { h.combine(v.id); h.combine(v.name); h.combine(v.shape) }
        return h.finalize()
    }
}

/// A fast 64-bit digest (multiply-xorshift over 64-bit words); not cryptographic.
struct Digest {
    private var h: UInt64 = 0x243F_6A88_85A3_08D3

    mutating func mix(_ v: UInt64) {
        h = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
    }

    mutating func mix(floats: UnsafeBufferPointer<Float>) {
        guard let base = floats.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        let words = floats.count / 2
        var i = 0
        while i < words { mix(raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)); i += 1 }
        if floats.count % 2 == 1 { mix(UInt64(floats[floats.count - 1].bitPattern)) }
    }

    /// bf16 bits, four to a word (a trailing partial word zero-padded, after the count).
    mutating func mix(halves: UnsafeBufferPointer<UInt16>) {
        guard let base = halves.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        let words = halves.count / 4
        var i = 0
        while i < words { mix(raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)); i += 1 }
        var tail: UInt64 = 0
        for j in (words * 4)..<halves.count { tail |= UInt64(halves[j]) << (16 * UInt64(j - words * 4)) }
        if halves.count % 4 != 0 { mix(tail) }
    }

    func finish() -> UInt64 {
        var z = h
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        return z ^ (z >> 33)
    }
}
