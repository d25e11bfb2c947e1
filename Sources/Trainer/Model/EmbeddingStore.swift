import Inference

/// One embedding table during training: values, optimizer slots, and the rows touched since
/// the last drain. Fixed tables address rows by id; key-value tables map keys to slot rows
/// in insertion order and grow on first touch.
final class EmbeddingStore {
    let id: Int
    let name: String
    let dim: Int
    /// Row count of a fixed table; nil for key-value.
    let fixedRows: Int?
    let values: TrainBuffer
    /// Optimizer slots, same row layout as `values` (Adam: m, v; Adagrad/momentum: accum only).
    let slot1: TrainBuffer
    let slot2: TrainBuffer?
    private let slot1Initial: Float
    private let slotCount: Int
    /// Key-value only: key -> row, and row -> key.
    private(set) var index: [Int64: Int32] = [:]
    private(set) var keys: [Int64] = []
    /// Rows updated since the last drain (a flag per row plus the list, no hashing).
    private var touchedFlag: [Bool]
    private var touchedRows: [Int32] = []
    /// Per-row scratch mark for gradient accumulation (-1 = not in this batch).
    var mark: [Int32]
    /// Rows in this batch (unique, first-touch order) and their accumulated gradients.
    var batchRows: [Int32] = []
    let batchGrads = TrainBuffer(count: 0)
    /// Seed for rows inserted into a key-value table.
    private let rowSeed: UInt64

    var isKeyValue: Bool { fixedRows == nil }
    var rowCount: Int { fixedRows ?? keys.count }

    init(spec: EmbeddingSpec, values table: EmbeddingTableValues, slotCount: Int, slot1Initial: Float,
         seed: UInt64) throws {
        id = spec.id
        name = spec.name
        dim = spec.dim
        fixedRows = spec.rows
        self.slot1Initial = slot1Initial
        self.slotCount = slotCount
        rowSeed = seed
        guard table.dim == spec.dim else {
            throw TrainerModelError.parameterMismatch(name: spec.name, detail: "dim \(table.dim), spec says \(spec.dim)")
        }
        switch table {
        case .fixed(let rows, _, let v):
            guard let specRows = spec.rows else {
                throw TrainerModelError.parameterMismatch(name: spec.name, detail: "fixed values for a key-value table")
            }
            guard rows == specRows, v.count == rows * dim else {
                throw TrainerModelError.parameterMismatch(
                    name: spec.name, detail: "\(rows) rows / \(v.count) values, spec says \(specRows) rows of \(dim)")
            }
            values = TrainBuffer(v)
        case .keyValue(_, let k, let v):
            guard spec.rows == nil else {
                throw TrainerModelError.parameterMismatch(name: spec.name, detail: "key-value values for a fixed table")
            }
            guard v.count == k.count * dim else {
                throw TrainerModelError.parameterMismatch(
                    name: spec.name, detail: "\(k.count) keys but \(v.count) values (dim \(dim))")
            }
            values = TrainBuffer(v)
            keys = k
            index.reserveCapacity(k.count)
            for (i, key) in k.enumerated() {
                guard index.updateValue(Int32(i), forKey: key) == nil else {
                    throw TrainerModelError.parameterMismatch(name: spec.name, detail: "duplicate key \(key)")
                }
            }
        }
        let n = values.count
        slot1 = TrainBuffer(count: slotCount >= 1 ? n : 0, repeating: slot1Initial)
        slot2 = slotCount >= 2 ? TrainBuffer(count: n, repeating: 0) : nil
        mark = Array(repeating: -1, count: fixedRows ?? keys.count)
        touchedFlag = Array(repeating: false, count: fixedRows ?? keys.count)
    }

    @inline(__always) func markTouched(_ row: Int32) {
        if !touchedFlag[Int(row)] {
            touchedFlag[Int(row)] = true
            touchedRows.append(row)
        }
    }

    var hasTouchedRows: Bool { !touchedRows.isEmpty }

    /// Keys of the rows updated since the last call, ascending; clears the record.
    func drainTouched() -> [Int64] {
        var out = touchedRows.map { key(ofRow: $0) }
        out.sort()
        for r in touchedRows { touchedFlag[Int(r)] = false }
        touchedRows.removeAll(keepingCapacity: true)
        return out
    }

    /// Row of an id for reading; nil when absent (out of range, or key never inserted).
    @inline(__always) func lookupRow(_ id: Int64) -> Int32? {
        if let rows = fixedRows {
            return id >= 0 && id < Int64(rows) ? Int32(truncatingIfNeeded: id) : nil
        }
        return index[id]
    }

    /// Row of an id for training; inserts a key-value row (deterministic init) on first touch.
    @inline(__always) func trainingRow(_ id: Int64) -> Int32? {
        if fixedRows != nil { return lookupRow(id) }
        if let r = index[id] { return r }
        return insert(key: id)
    }

    private func insert(key: Int64) -> Int32 {
        let row = Int32(keys.count)
        keys.append(key)
        index[key] = row
        let start = values.count
        values.resize(to: start + dim)
        ParameterInit.fillKeyRow(values.base + start, dim: dim, seed: rowSeed, table: id, key: key)
        if slotCount >= 1 { slot1.resize(to: start + dim, repeating: slot1Initial) }
        slot2?.resize(to: start + dim)
        mark.append(-1)
        touchedFlag.append(false)
        return row
    }

    /// The key (public id) of a row.
    @inline(__always) func key(ofRow row: Int32) -> Int64 {
        fixedRows == nil ? keys[Int(row)] : Int64(row)
    }

    /// Start accumulating a batch's gradients.
    func beginBatch() {
        for r in batchRows { mark[Int(r)] = -1 }
        batchRows.removeAll(keepingCapacity: true)
        batchGrads.resize(to: 0)
    }

    /// Gradient row for `row` in this batch (allocated zeroed on first use).
    @inline(__always) func gradRow(_ row: Int32) -> UnsafeMutablePointer<Float> {
        var u = mark[Int(row)]
        if u < 0 {
            u = Int32(batchRows.count)
            mark[Int(row)] = u
            batchRows.append(row)
            batchGrads.resize(to: (Int(u) + 1) * dim)
        }
        return batchGrads.base + Int(u) * dim
    }

    /// Current values as an export/checkpoint table.
    func tableValues() -> EmbeddingTableValues {
        if let rows = fixedRows {
            return .fixed(rows: rows, dim: dim, values: values.array(count: rows * dim))
        }
        return .keyValue(dim: dim, keys: keys, values: values.array(count: keys.count * dim))
    }
}
