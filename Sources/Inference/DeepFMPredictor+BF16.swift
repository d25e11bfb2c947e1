import CPrefetch
import FG

/// The gather of bf16 tables: the same loops as the f32 gather, with each row widened to f32
/// (a 16-bit shift, exact) as it is accumulated into the f32 scratch, so the dense part of the
/// forward pass is unchanged. A bf16 table holding `round(v)` gives exactly the floats an f32
/// table holding `widen(round(v))` gives.
extension DeepFMPredictor {
    /// Resolved access to one bf16 table (hoisted out of the per-id loop).
    struct BF16TableAccess {
        let fixedBase: UnsafePointer<UInt16>?
        let rows: Int
        let dim: Int
        let kv: KVTable?

        /// nil for an f32 table.
        init?(_ t: StoredTable) {
            switch t {
            case .fixedBF16(let f): fixedBase = UnsafePointer(f.buffer.pointer); rows = f.rows; dim = f.dim; kv = nil
            case .keyValue(let k) where k.dtype == .bf16: fixedBase = nil; rows = 0; dim = k.dim; kv = k
            default: return nil
            }
        }

        @inline(__always)
        func row(_ id: Int64) -> (UnsafePointer<UInt16>?, outOfRange: Bool) {
            if let fixedBase {
                guard id >= 0 && id < Int64(rows) else { return (nil, true) }
                return (fixedBase + Int(id) * dim, false)
            }
            return (kv?.lookup16(id), false)
        }

        /// Starts loading the cache lines of `id`'s row of a fixed table (32 values a line).
        @inline(__always)
        func prefetch(_ id: Int64) {
            guard let fixedBase, dim > 0, id >= 0 && id < Int64(rows) else { return }
            let row = fixedBase + Int(id) * dim
            var c = 0
            while c < dim { odl_prefetch(row + c); c += 32 }
            odl_prefetch(row + (dim - 1))
        }
    }

    /// Adds column `column`'s wide sums from a bf16 table to `wide` [B]; returns an
    /// out-of-range id, if any.
    func gatherWideBF16(_ access: BF16TableAccess, batch: EncodedBatch, column: Int,
                        wide: UnsafeMutablePointer<Float>, combined: UnsafeMutablePointer<Float>) -> Int64? {
        let b = batch.batchSize
        let wd = wideDim
        return batch.columns[column].offsets.withUnsafeBufferPointer { off in
            batch.columns[column].ids.withUnsafeBufferPointer { ids in
                batch.columns[column].weights.withUnsafeBufferPointer { ws in
                    let entries = Int(off[b]), ahead = Self.prefetchDistance
                    for e in 0..<min(ahead, entries) { access.prefetch(ids[e]) }
                    if wd == 1 {
                        for i in 0..<b {
                            var sum: Float = 0
                            for e in Int(off[i])..<Int(off[i + 1]) {
                                if e + ahead < entries { access.prefetch(ids[e + ahead]) }
                                let (row, out) = access.row(ids[e])
                                if out { return ids[e] }
                                guard let row else { continue }
                                sum += ws[e] * BF16.widen(row[0])
                            }
                            wide[i] += 0 + sum
                        }
                        return nil
                    }
                    for i in 0..<b {
                        combined.initialize(repeating: 0, count: wd)
                        for e in Int(off[i])..<Int(off[i + 1]) {
                            if e + ahead < entries { access.prefetch(ids[e + ahead]) }
                            let (row, out) = access.row(ids[e])
                            if out { return ids[e] }
                            guard let row else { continue }
                            BF16.addScaled(ws[e], row, into: combined, wd)
                        }
                        var s: Float = 0
                        for c in 0..<wd { s += combined[c] }
                        wide[i] += s
                    }
                    return nil
                }
            }
        }
    }

    /// Fills deep field `field` of `deepInput` [B, F*D] from a bf16 table; returns an
    /// out-of-range id, if any.
    func gatherDeepBF16(_ access: BF16TableAccess, batch: EncodedBatch, column: Int, field j: Int,
                        combiner: FeatureColumnSpec.Combiner, deepInput: UnsafeMutablePointer<Float>) -> Int64? {
        let b = batch.batchSize
        let d = dim
        let deepWidth = deepLookups.count * dim
        return batch.columns[column].offsets.withUnsafeBufferPointer { off in
            batch.columns[column].ids.withUnsafeBufferPointer { ids in
                batch.columns[column].weights.withUnsafeBufferPointer { ws in
                    let entries = Int(off[b]), ahead = Self.prefetchDistance
                    for e in 0..<min(ahead, entries) { access.prefetch(ids[e]) }
                    for i in 0..<b {
                        let dst = deepInput + i * deepWidth + j * d
                        VectorOps.zero(dst, d)
                        var wsum: Float = 0, wsq: Float = 0
                        for e in Int(off[i])..<Int(off[i + 1]) {
                            if e + ahead < entries { access.prefetch(ids[e + ahead]) }
                            let w = ws[e]
                            wsum += w; wsq += w * w
                            let (row, out) = access.row(ids[e])
                            if out { return ids[e] }
                            guard let row else { continue }
                            BF16.addScaled(w, row, into: dst, d)
                        }
                        Self.finishCombine(dst, combiner, weightSum: wsum, squareSum: wsq, d)
                    }
                    return nil
                }
            }
        }
    }
}
