import ArrayIO
import CPrefetch
import FG
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reusable buffers of one caller of ``DeepFMPredictor/predict(batch:store:scratch:logits:probs:)``.
/// Keep one per thread; once it has seen the largest batch size no call allocates.
public struct PredictScratch: Sendable {
    var arena: [Float] = []
    /// Mapping windows a batch touched in sorted memory-mapped tables (released after the gather).
    var mappedWindows: [MappedWindow] = []

    public init() {}
}

/// DeepFM forward pass (deepfm.md) over a ``ParameterStore``: wide + FM + DNN, batched.
///
/// Lookups: the wide part sums each wide feature's rows (weights multiply rows; combiner sum,
/// as deepfm.md step 1 says) and all their components. Deep features use their combiner:
/// sum `Σ w·e`, mean `Σ w·e / Σ w`, sqrtn `Σ w·e / sqrt(Σ w²)`; a zero denominator or no ids
/// gives a zero vector. An absent key-value key contributes a zero row (its weight still
/// counts). A fixed-table id outside `0..<rows` is an error.
public final class DeepFMPredictor: Sendable {
    public let spec: ModelSpec
    let wideLookups: [(column: Int, table: Int)]
    let deepLookups: [(column: Int, table: Int, combiner: FeatureColumnSpec.Combiner)]
    let dim: Int
    let wideDim: Int
    let specFingerprint: Int
    /// The columns the model reads, each once (wide features, then deep ones not already listed).
    let readColumns: [Int]

    public init(spec: ModelSpec) throws(ModelSpecError) {
        guard !spec.deepFeatures.isEmpty else { throw .noDeepFeatures }
        var wide: [(Int, Int)] = []
        for c in spec.wideFeatures {
            guard c >= 0 && c < spec.columns.count, let t = spec.tableId(column: c, part: .wide) else {
                throw .invalid("wide feature \(c): no wide embedding table in the spec")
            }
            guard spec.embeddings[t].dim == spec.wideOutputDim else {
                throw .invalid("table \(spec.embeddings[t].name) width \(spec.embeddings[t].dim) != wide_output_dim \(spec.wideOutputDim)")
            }
            wide.append((c, t))
        }
        var deep: [(Int, Int, FeatureColumnSpec.Combiner)] = []
        for c in spec.deepFeatures {
            guard c >= 0 && c < spec.columns.count, let t = spec.tableId(column: c, part: .deep) else {
                throw .invalid("deep feature \(c): no deep embedding table in the spec")
            }
            guard spec.embeddings[t].dim == spec.embeddingDim else {
                throw .invalid("table \(spec.embeddings[t].name) width \(spec.embeddings[t].dim) != embedding_dim \(spec.embeddingDim)")
            }
            deep.append((c, t, spec.columns[c].combiner))
        }
        self.spec = spec
        wideLookups = wide
        deepLookups = deep
        dim = spec.embeddingDim
        wideDim = spec.wideOutputDim
        specFingerprint = spec.parameterFingerprint
        var seen = Set<Int>()
        readColumns = (spec.wideFeatures + spec.deepFeatures).filter { seen.insert($0).inserted }
    }

    /// Checks the CSR structure of the columns the model reads.
    func validate(_ batch: EncodedBatch) throws(PredictError) {
        guard batch.columns.count == spec.columns.count else {
            throw .columnCount(expected: spec.columns.count, got: batch.columns.count)
        }
        for c in readColumns {
            let col = batch.columns[c]
            let name = spec.columns[c].name
            guard col.offsets.count == batch.batchSize + 1 else {
                throw .malformedColumn(feature: name, reason: "\(col.offsets.count) offsets for batch size \(batch.batchSize)")
            }
            guard col.weights.count == col.ids.count else {
                throw .malformedColumn(feature: name, reason: "\(col.ids.count) ids but \(col.weights.count) weights")
            }
            guard col.offsets.first == 0 else { throw .malformedColumn(feature: name, reason: "offsets must start at 0") }
            var prev: Int32 = 0
            for o in col.offsets {
                guard o >= prev && Int(o) <= col.ids.count else {
                    throw .malformedColumn(feature: name, reason: "offsets not increasing within 0...\(col.ids.count)")
                }
                prev = o
            }
        }
    }

    /// Scores `batch`: `logits` and `probs` get `batch.batchSize` values (resized as needed).
    public func predict(batch: EncodedBatch, store: ParameterStore, scratch: inout PredictScratch,
                        logits: inout [Float], probs: inout [Float]) throws(PredictError) {
        guard store.specFingerprint == specFingerprint else { throw .specMismatch }
        try validate(batch)
        let b = batch.batchSize
        if logits.count != b { logits = [Float](repeating: 0, count: b) }
        if probs.count != b { probs = [Float](repeating: 0, count: b) }
        if b == 0 { return }
        let f = deepLookups.count
        let deepWidth = f * dim
        let lastDeep = spec.dnnHidden.last ?? deepWidth
        let concatWidth = 1 + dim + lastDeep
        let widest = ((spec.dnnHidden + (spec.finalDnnHidden ?? [])).map { ($0 + 31) / 32 * 32 }.max() ?? 0)
        // The dense part runs over chunks of rows, so that a chunk's activations and the layer
        // weights stay in L2 whatever the batch size.
        let chunk = min(b, Self.rowsPerChunk)
        // Arena layout: deep input [B] | wide [B] | fm | layer A | layer B | concat (one chunk each) | combined row.
        let oWide = b * deepWidth, oFM = oWide + b, oA = oFM + chunk * dim, oB = oA + chunk * widest
        let oCat = oB + chunk * widest, oComb = oCat + chunk * concatWidth, total = oComb + max(dim, wideDim)
        if scratch.arena.count < total { scratch.arena = [Float](repeating: 0, count: total) }

        let result = scratch.arena.withUnsafeMutableBufferPointer { arena -> Result<Void, PredictError> in
            guard let base = arena.baseAddress else { return .success(()) }
            let deepIn = base, wide = base + oWide, fm = base + oFM
            let bufA = base + oA, bufB = base + oB, cat = base + oCat, comb = base + oComb
            // 0. Tables bigger than memory: start reading the pages this batch needs, in parallel.
            if store.hasSortedBase { prefetchSortedBases(batch: batch, tables: store.tables, windows: &scratch.mappedWindows) }
            // 1. Under the read lock: the dense snapshot and every embedding row this batch needs.
            let gathered = store.withReadAccess { (dense, tables) -> Result<DenseSnapshot, PredictError> in
                do throws(PredictError) {
                    try gather(batch: batch, tables: tables, deepInput: deepIn, wide: wide, combined: comb)
                    return .success(dense)
                } catch { return .failure(error) }
            }
            if !scratch.mappedWindows.isEmpty { MappedWindow.release(&scratch.mappedWindows) }
            let snapshot: DenseSnapshot
            switch gathered {
            case .success(let s): snapshot = s
            case .failure(let e): return .failure(e)
            }
            guard let net = snapshot.network else {
                return .failure(.modelIncomplete("dense variables do not form the DeepFM layers of this spec"))
            }
            logits.withUnsafeMutableBufferPointer { lp in
                guard let lbase = lp.baseAddress else { return }
                var c0 = 0
                while c0 < b {
                    let m = min(chunk, b - c0)
                    forward(net: net, rows: m, deepInput: deepIn + c0 * deepWidth, wide: wide + c0, fm: fm,
                            bufA: bufA, bufB: bufB, cat: cat, logits: lbase + c0)
                    c0 += m
                }
            }
            for i in 0..<b { probs[i] = 1 / (1 + expf(-logits[i])) }
            return .success(())
        }
        try result.get()
    }

    /// Rows per chunk of the dense part (a multiple of the AVX-512 kernel's 12-row block).
    static let rowsPerChunk = 96

    /// FM, DNN and head for `rows` gathered items: `logits[0..<rows]`. `fm`, `bufA`, `bufB` and
    /// `cat` hold at least `rows` rows each. Every item's arithmetic is independent of `rows`.
    private func forward(net: PreparedNetwork, rows m: Int, deepInput deepIn: UnsafePointer<Float>,
                         wide: UnsafePointer<Float>, fm: UnsafeMutablePointer<Float>,
                         bufA: UnsafeMutablePointer<Float>, bufB: UnsafeMutablePointer<Float>,
                         cat: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        let f = deepLookups.count
        let deepWidth = f * dim
        let lastDeep = spec.dnnHidden.last ?? deepWidth
        let concatWidth = 1 + dim + lastDeep
        // 2. FM: 0.5 * ((Σ_f v)^2 - Σ_f v^2) per item -> [m, D].
        for i in 0..<m {
            VectorOps.factorizationMachine(deepIn + i * deepWidth, fields: f, dim: dim, into: fm + i * dim)
        }
        // 3. DNN deep_feature.
        var x = deepIn, xWidth = deepWidth
        var useA = true
        func run(_ layers: [PreparedLayer]) {
            for layer in layers {
                let out = useA ? bufA : bufB
                layer.forward(input: x, lda: xWidth, m: m, output: out)
                x = UnsafePointer(out); xWidth = layer.np; useA.toggle()
            }
        }
        run(net.deep)
        // 4. Head.
        if let final = net.final {
            for i in 0..<m {
                let row = cat + i * concatWidth
                row[0] = wide[i]
                (row + 1).update(from: fm + i * dim, count: dim)
                (row + 1 + dim).update(from: x + i * xWidth, count: lastDeep)
            }
            x = UnsafePointer(cat); xWidth = concatWidth
            run(final)
        }
        let headK = net.headKernel.count
        net.headKernel.withUnsafeBufferPointer { hk in
            guard let kp = hk.baseAddress else { return }
            for i in 0..<m { logits[i] = Gemm.dot(x + i * xWidth, kp, headK) + net.headBias }
        }
        if net.final == nil {
            // logits = wide + sum(fm, axis 1) + deep_logits(deep).
            for i in 0..<m {
                var sum: Float = 0
                for d in 0..<dim { sum += fm[i * dim + d] }
                logits[i] = wide[i] + sum + logits[i]
            }
        }
    }

    /// Starts the page reads of every id whose table has a sorted, memory-mapped base (no lock:
    /// the base is immutable), so the gather waits about two disk reads, not two per id.
    private func prefetchSortedBases(batch: EncodedBatch, tables: [StoredTable], windows: inout [MappedWindow]) {
        for (column, table) in wideLookups.map({ ($0.column, $0.table) }) + deepLookups.map({ ($0.column, $0.table) }) {
            guard case .keyValue(let kv) = tables[table], kv.sorted != nil else { continue }
            batch.columns[column].ids.withUnsafeBufferPointer { kv.prefetch($0, windows: &windows) }
        }
    }

    /// Resolved table access for one column's gather (hoisted out of the per-id loop).
    private struct TableAccess {
        let fixedBase: UnsafePointer<Float>?
        let rows: Int
        let dim: Int
        let kv: KVTable?

        init(_ t: StoredTable) {
            switch t {
            case .fixed(let f): fixedBase = UnsafePointer(f.buffer.pointer); rows = f.rows; dim = f.dim; kv = nil
            case .keyValue(let k): fixedBase = nil; rows = 0; dim = k.dim; kv = k
            // bf16 tables are gathered by ``BF16TableAccess`` (the gather checks first).
            case .fixedBF16(let f): fixedBase = nil; rows = f.rows; dim = f.dim; kv = nil
            }
        }

        @inline(__always)
        func row(_ id: Int64) -> (UnsafePointer<Float>?, outOfRange: Bool) {
            if let fixedBase {
                guard id >= 0 && id < Int64(rows) else { return (nil, true) }
                return (fixedBase + Int(id) * dim, false)
            }
            return (kv?.lookup(id), false)
        }

        /// Starts loading the cache lines of `id`'s row of a fixed table (key-value rows are
        /// found by a hash probe, which is itself the load: nothing to do ahead).
        @inline(__always)
        func prefetch(_ id: Int64) {
            guard let fixedBase, dim > 0, id >= 0 && id < Int64(rows) else { return }
            let row = fixedBase + Int(id) * dim
            var c = 0
            while c < dim { odl_prefetch(row + c); c += 16 }
            odl_prefetch(row + (dim - 1))
        }
    }

    /// Entries of a column prefetched ahead of the one being summed: enough misses in flight to
    /// cover the L3/DRAM latency of random rows, few enough to stay within the miss buffers.
    static let prefetchDistance = 16

    /// Fills `wide` [B] and `deepInput` [B, F*D] from the tables (read lock held).
    private func gather(batch: EncodedBatch, tables: [StoredTable], deepInput: UnsafeMutablePointer<Float>,
                        wide: UnsafeMutablePointer<Float>, combined: UnsafeMutablePointer<Float>) throws(PredictError) {
        let b = batch.batchSize
        let deepWidth = deepLookups.count * dim
        wide.initialize(repeating: 0, count: b)
        for (column, table) in wideLookups {
            if let access16 = BF16TableAccess(tables[table]) {
                if let bad = gatherWideBF16(access16, batch: batch, column: column, wide: wide, combined: combined) {
                    throw .idOutOfRange(feature: spec.columns[column].name, id: bad, rows: access16.rows)
                }
                continue
            }
            let access = TableAccess(tables[table])
            let wd = wideDim
            let bad: Int64? = batch.columns[column].offsets.withUnsafeBufferPointer { off in
                batch.columns[column].ids.withUnsafeBufferPointer { ids in
                    batch.columns[column].weights.withUnsafeBufferPointer { ws in
                        let entries = Int(off[b]), ahead = Self.prefetchDistance
                        for e in 0..<min(ahead, entries) { access.prefetch(ids[e]) }
                        if wd == 1 {
                            // One float per row: the loop below with `combined` held in a register.
                            for i in 0..<b {
                                var sum: Float = 0
                                for e in Int(off[i])..<Int(off[i + 1]) {
                                    if e + ahead < entries { access.prefetch(ids[e + ahead]) }
                                    let (row, out) = access.row(ids[e])
                                    if out { return ids[e] }
                                    guard let row else { continue }
                                    sum += ws[e] * row[0]
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
                                let w = ws[e]
                                for c in 0..<wd { combined[c] += w * row[c] }
                            }
                            var s: Float = 0
                            for c in 0..<wd { s += combined[c] }
                            wide[i] += s
                        }
                        return nil
                    }
                }
            }
            if let bad { throw .idOutOfRange(feature: spec.columns[column].name, id: bad, rows: access.rows) }
        }
        let d = dim
        for (j, (column, table, combiner)) in deepLookups.enumerated() {
            if let access16 = BF16TableAccess(tables[table]) {
                if let bad = gatherDeepBF16(access16, batch: batch, column: column, field: j, combiner: combiner, deepInput: deepInput) {
                    throw .idOutOfRange(feature: spec.columns[column].name, id: bad, rows: access16.rows)
                }
                continue
            }
            let access = TableAccess(tables[table])
            let bad: Int64? = batch.columns[column].offsets.withUnsafeBufferPointer { off in
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
                                VectorOps.addScaled(w, row, into: dst, d)
                            }
                            Self.finishCombine(dst, combiner, weightSum: wsum, squareSum: wsq, d)
                        }
                        return nil
                    }
                }
            }
            if let bad { throw .idOutOfRange(feature: spec.columns[column].name, id: bad, rows: access.rows) }
        }
    }

    /// Divides one item's summed deep field `dst` by its combiner's denominator (sum: 1, mean:
    /// the weights' sum, sqrtn: the root of their squares); all zeros when that is 0.
    @inline(__always)
    static func finishCombine(_ dst: UnsafeMutablePointer<Float>, _ combiner: FeatureColumnSpec.Combiner,
                              weightSum: Float, squareSum: Float, _ d: Int) {
        let denom: Float
        switch combiner {
        case .sum: denom = 1
        case .mean: denom = weightSum
        case .sqrtn: denom = squareSum.squareRoot()
        }
        if denom == 0 {
            VectorOps.zero(dst, d)
        } else if denom != 1 {
            VectorOps.divide(dst, by: denom, d)
        }
    }

    /// The first half of ``predict(batch:store:scratch:logits:probs:)`` alone (same code path:
    /// one read-locked gather plus the dense snapshot): what a prediction observed. For the
    /// concurrency tests.
    func gatherForTesting(batch: EncodedBatch, store: ParameterStore) throws(PredictError) -> (deep: [Float], wide: [Float], dense: DenseSnapshot) {
        try validate(batch)
        let b = batch.batchSize
        var deep = [Float](repeating: 0, count: b * deepLookups.count * dim)
        var wide = [Float](repeating: 0, count: b)
        var comb = [Float](repeating: 0, count: max(dim, wideDim))
        let r = deep.withUnsafeMutableBufferPointer { dp in
            wide.withUnsafeMutableBufferPointer { wp in
                comb.withUnsafeMutableBufferPointer { cp in
                    store.withReadAccess { (dense, tables) -> Result<DenseSnapshot, PredictError> in
                        guard let d = dp.baseAddress, let w = wp.baseAddress, let c = cp.baseAddress else { return .success(dense) }
                        do throws(PredictError) {
                            try gather(batch: batch, tables: tables, deepInput: d, wide: w, combined: c)
                            return .success(dense)
                        } catch { return .failure(error) }
                    }
                }
            }
        }
        return (deep, wide, try r.get())
    }

    /// Convenience for the trainer and tests: scores `batch` with `parameters` through a
    /// temporary ``ParameterStore`` (one copy of the parameters).
    public func predict(batch: EncodedBatch, parameters: ModelParameters) throws -> (logits: [Float], probs: [Float]) {
        let store = try ParameterStore(spec: spec, parameters: parameters)
        var scratch = PredictScratch()
        var logits: [Float] = [], probs: [Float] = []
        try predict(batch: batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
        return (logits, probs)
    }
}
