import FG
import Inference

/// A DeepFM (deepfm.md) with backpropagation and an optimizer: the streaming trainer's model.
/// Not thread-safe: one owner thread calls ``trainStep(batch:labels:)`` and reads values.
public final class TrainableDeepFM {
    public let spec: ModelSpec
    public let optimizer: OptimizerSettings
    let layout: ModelLayout
    /// All dense variables in one arena: variable `id` at `denseOffsets[id]`.
    let dense: TrainBuffer
    let denseOffsets: [Int]
    let denseGrad: TrainBuffer
    let denseSlot1: TrainBuffer
    let denseSlot2: TrainBuffer?
    let tables: [EmbeddingStore]
    /// Adam's beta powers (TF non-slot variables), multiplied after every step.
    var beta1Power: Float = 1
    var beta2Power: Float = 1
    /// Batch norm moving-average momentum (deepfm.md).
    let bnMomentum: Float = 0.99
    let bnEpsilon: Float = 1e-3
    let scratch: BatchScratch
    /// The second compute thread (nil: single-threaded).
    let forkJoin: ForkJoin?
    /// Minimum work (multiply-adds or floats) worth splitting over two threads; tests set 0.
    var parallelThreshold = 32_768

    /// Number of optimizer steps applied so far (incremented by each ``trainStep(batch:labels:)``).
    public var globalStep: Int = 0

    /// Build a trainable model over `parameters` (e.g. ``initialParameters(spec:seed:)`` or a
    /// checkpoint). `seed` drives the initial values of rows inserted into key-value tables.
    /// `threads` 2 splits dense layers and sparse updates over a second, dedicated thread;
    /// results are bit-identical to 1 thread.
    public init(spec: ModelSpec, parameters: ModelParameters, optimizer: OptimizerSettings, seed: UInt64 = 0,
                threads: Int = 1) throws {
        self.spec = spec
        self.optimizer = optimizer
        layout = try ModelLayout(spec: spec)
        guard parameters.dense.count == spec.denseVariables.count else {
            throw TrainerModelError.parameterMismatch(
                name: "dense", detail: "\(parameters.dense.count) variables, spec has \(spec.denseVariables.count)")
        }
        guard parameters.tables.count == spec.embeddings.count else {
            throw TrainerModelError.parameterMismatch(
                name: "embeddings", detail: "\(parameters.tables.count) tables, spec has \(spec.embeddings.count)")
        }
        var offsets: [Int] = []
        var total = 0
        for v in spec.denseVariables {
            guard parameters.dense[v.id].count == v.elementCount else {
                throw TrainerModelError.parameterMismatch(
                    name: v.name, detail: "\(parameters.dense[v.id].count) values, shape \(v.shape)")
            }
            offsets.append(total)
            total += v.elementCount
        }
        denseOffsets = offsets
        dense = TrainBuffer(count: total)
        for v in spec.denseVariables { dense.copy(from: parameters.dense[v.id], to: offsets[v.id]) }
        denseGrad = TrainBuffer(count: total)
        let (slots, initial) = Self.slotLayout(optimizer.kind)
        denseSlot1 = TrainBuffer(count: total, repeating: initial)
        denseSlot2 = slots >= 2 ? TrainBuffer(count: total) : nil
        tables = try spec.embeddings.map {
            try EmbeddingStore(spec: $0, values: parameters.tables[$0.id], slotCount: slots, slot1Initial: initial, seed: seed)
        }
        if case .adam(let b1, let b2, _) = optimizer.kind {
            beta1Power = b1
            beta2Power = b2
        }
        scratch = BatchScratch(layout: layout)
        forkJoin = threads >= 2 ? ForkJoin() : nil
    }

    deinit { forkJoin?.shutdown() }

    /// Compute threads in use (1 or 2).
    public var threads: Int { forkJoin == nil ? 1 : 2 }

    /// Run `body(lo, hi)` over `0..<total`, split in two halves on two threads when there
    /// is a second thread and `work` (a cost estimate) is large enough.
    @inline(__always)
    func split(_ total: Int, work: Int, _ body: (Int, Int) -> Void) {
        if let fj = forkJoin, total >= 2, work >= parallelThreshold {
            let mid = total / 2
            fj.run { part in
                if part == 0 { body(0, mid) } else { body(mid, total) }
            }
        } else {
            body(0, total)
        }
    }

    /// Slots per variable and the first slot's initial value.
    static func slotLayout(_ kind: OptimizerKind) -> (Int, Float) {
        switch kind {
        case .adam: return (2, 0)
        case .adagrad(let a): return (1, a)
        case .momentum: return (1, 0)
        }
    }

    /// Deterministic EasyRec-like initial values for `spec` (see `ParameterInit`).
    public static func initialParameters(spec: ModelSpec, seed: UInt64) -> ModelParameters {
        ModelParameters(dense: spec.denseVariables.map { ParameterInit.dense($0, seed: seed) },
                        tables: spec.embeddings.map { ParameterInit.table($0, seed: seed) })
    }

    /// One optimizer step: forward with batch statistics, backward, moving-average update,
    /// optimizer apply; `globalStep` += 1. Returns the mean loss (cross-entropy + regularisation)
    /// and the probs computed before the update. An invalid batch is not trained on and gives
    /// `(.nan, [])`; use ``trainStepChecked(batch:labels:)`` for the reason. An empty batch is
    /// no step at all: `(0, [])`, globalStep unchanged.
    public func trainStep(batch: EncodedBatch, labels: [Float]) -> (loss: Float, probs: [Float]) {
        guard (try? validate(batch: batch, labels: labels)) != nil else { return (.nan, []) }
        let rows = batch.batchSize
        guard rows > 0 else { return (0, []) }            // nothing to learn from: no step
        let loss = forwardBackward(batch: batch, labels: labels, training: true)
        updateMovingStatistics(rows: rows)
        applyOptimizer(learningRate: optimizer.learningRate.rate(at: globalStep))
        globalStep += 1
        return (loss, scratch.probs.array(count: rows))
    }

    /// ``trainStep(batch:labels:)`` that throws on an invalid batch.
    public func trainStepChecked(batch: EncodedBatch, labels: [Float]) throws -> (loss: Float, probs: [Float]) {
        try validate(batch: batch, labels: labels)
        return trainStep(batch: batch, labels: labels)
    }

    /// Inference-mode probs (batch norm with moving statistics); nothing changes. Unknown
    /// key-value keys read as zero rows. An invalid batch gives `[]`.
    public func predict(batch: EncodedBatch) -> [Float] {
        guard (try? validate(batch: batch, labels: nil)) != nil else { return [] }
        forward(batch: batch, training: false)
        return scratch.probs.array(count: batch.batchSize)
    }

    /// Inference-mode logits (same pass as ``predict(batch:)``).
    public func predictLogits(batch: EncodedBatch) -> [Float] {
        guard (try? validate(batch: batch, labels: nil)) != nil else { return [] }
        forward(batch: batch, training: false)
        return scratch.logits.array(count: batch.batchSize)
    }

    /// Throws a ``TrainerModelError/invalidBatch(_:)`` naming the column and problem when the
    /// batch does not fit the spec (column count, item counts, CSR offsets, non-finite
    /// weights) or the labels (count, non-finite values).
    public func validate(batch: EncodedBatch, labels: [Float]?) throws {
        let b = batch.batchSize
        guard b >= 0 else { throw TrainerModelError.invalidBatch("batch size \(b)") }
        if let labels {
            guard labels.count == b else { throw TrainerModelError.invalidBatch("\(labels.count) labels for \(b) items") }
            if let i = labels.firstIndex(where: { !$0.isFinite }) {
                throw TrainerModelError.invalidBatch("label of item \(i) is \(labels[i])")
            }
        }
        guard batch.columns.count == spec.columns.count else {
            throw TrainerModelError.invalidBatch("\(batch.columns.count) columns, model has \(spec.columns.count)")
        }
        for c in layout.usedColumns {
            let col = batch.columns[c]
            let name = spec.columns[c].name
            guard col.offsets.count == b + 1 else {
                throw TrainerModelError.invalidBatch("column '\(name)' has \(col.offsets.count - 1) items, batch has \(b)")
            }
            guard col.weights.count == col.ids.count else {
                throw TrainerModelError.invalidBatch("column '\(name)' has \(col.ids.count) ids but \(col.weights.count) weights")
            }
            guard col.offsets[0] == 0, Int(col.offsets[b]) == col.ids.count else {
                throw TrainerModelError.invalidBatch("column '\(name)' offsets do not span its \(col.ids.count) ids")
            }
            for i in 0..<b where col.offsets[i] > col.offsets[i + 1] {
                throw TrainerModelError.invalidBatch("column '\(name)' offsets decrease at item \(i)")
            }
            if let e = col.weights.firstIndex(where: { !$0.isFinite }) {
                throw TrainerModelError.invalidBatch("column '\(name)' has weight \(col.weights[e]) at entry \(e)")
            }
        }
    }

    /// A copy of all current values (key-value tables list keys in insertion order).
    public func parameters() -> ModelParameters {
        ModelParameters(dense: spec.denseVariables.map { denseValues(id: $0.id) },
                        tables: tables.map { $0.tableValues() })
    }

    /// Current values of dense variable `id` (empty for an unknown id).
    public func denseValues(id: Int) -> [Float] {
        guard spec.denseVariables.indices.contains(id) else { return [] }
        return dense.array(from: denseOffsets[id], count: spec.denseVariables[id].elementCount)
    }

    /// Rows updated since the last call, per embedding id (only tables with rows), keys sorted
    /// ascending; clears the record.
    public func drainTouchedRows() -> [Int: [Int64]] {
        var out: [Int: [Int64]] = [:]
        for t in tables where t.hasTouchedRows { out[t.id] = t.drainTouched() }
        return out
    }

    /// Current values of rows (row ids or key-value keys), `keys.count * dim` floats; a row
    /// that does not exist (out of range, or a key never inserted) reads as zeros.
    public func rowValues(embeddingId: Int, keys: [Int64]) -> [Float] {
        guard tables.indices.contains(embeddingId) else { return [] }
        let t = tables[embeddingId]
        var out = [Float](repeating: 0, count: keys.count * t.dim)
        out.withUnsafeMutableBufferPointer { o in
            guard let ob = o.baseAddress else { return }
            for (i, k) in keys.enumerated() {
                if let r = t.lookupRow(k) { (ob + i * t.dim).update(from: t.values.base + Int(r) * t.dim, count: t.dim) }
            }
        }
        return out
    }

    /// Number of rows currently held by each embedding table (key-value tables grow).
    public func rowCount(embeddingId: Int) -> Int {
        tables.indices.contains(embeddingId) ? tables[embeddingId].rowCount : 0
    }
}
