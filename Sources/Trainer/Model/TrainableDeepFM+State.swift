import FG

/// Gradients of one batch (training mode), for checks: dense by variable id (zeros for
/// non-trainable variables), sparse by embedding id and row key.
struct ModelGradients {
    var loss: Float
    var probs: [Float]
    var dense: [[Float]]
    var sparse: [Int: [Int64: [Float]]]
}

extension TrainableDeepFM {
    /// Loss and gradients of a batch without any update (rows of unseen key-value keys are
    /// inserted, as training would). Nil for an invalid batch.
    func gradients(batch: EncodedBatch, labels: [Float]) -> ModelGradients? {
        guard (try? validate(batch: batch, labels: labels)) != nil else { return nil }
        let loss = forwardBackward(batch: batch, labels: labels, training: true)
        var sparse: [Int: [Int64: [Float]]] = [:]
        for t in tables where !t.batchRows.isEmpty {
            var rows: [Int64: [Float]] = [:]
            for (u, row) in t.batchRows.enumerated() {
                rows[t.key(ofRow: row)] = t.batchGrads.array(from: u * t.dim, count: t.dim)
            }
            sparse[t.id] = rows
        }
        return ModelGradients(
            loss: loss, probs: scratch.probs.array(count: batch.batchSize),
            dense: spec.denseVariables.map { denseGrad.array(from: denseOffsets[$0.id], count: $0.elementCount) },
            sparse: sparse)
    }

    /// Slot names of this optimizer (TF's: `Adam`, `Adam_1`; `Adagrad`; `Momentum`).
    private var slotNames: [String] {
        switch optimizer.kind {
        case .adam: return ["Adam", "Adam_1"]
        case .adagrad: return ["Adagrad"]
        case .momentum: return ["Momentum"]
        }
    }

    private func slotBuffer(dense isDense: Bool, table: EmbeddingStore?, index: Int) -> TrainBuffer? {
        if let table { return index == 0 ? table.slot1 : table.slot2 }
        return index == 0 ? denseSlot1 : denseSlot2
    }

    /// Optimizer slots for checkpoints, `"<variable>/<slot>"` -> (shape, values), plus Adam's
    /// `beta1_power` / `beta2_power` (shape []). Key-value tables' slot rows follow the key
    /// order of ``parameters()``.
    public func optimizerState() -> [String: (shape: [Int], values: [Float])] {
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (si, slot) in slotNames.enumerated() {
            for id in layout.trainableDense {
                let v = spec.denseVariables[id]
                if let b = slotBuffer(dense: true, table: nil, index: si) {
                    out["\(v.name)/\(slot)"] = (v.shape, b.array(from: denseOffsets[id], count: v.elementCount))
                }
            }
            for t in tables {
                if let b = slotBuffer(dense: false, table: t, index: si) {
                    out["\(t.name)/\(slot)"] = ([t.rowCount, t.dim], b.array(count: t.rowCount * t.dim))
                }
            }
        }
        if case .adam = optimizer.kind {
            out["beta1_power"] = ([], [beta1Power])
            out["beta2_power"] = ([], [beta2Power])
        }
        return out
    }

    /// Restore what ``optimizerState()`` returned (for a model built from the same parameters).
    /// Every expected entry must be present with its shape; unknown entries are an error too.
    public func restoreOptimizerState(_ state: [String: (shape: [Int], values: [Float])]) throws {
        let expected = optimizerState()
        for name in state.keys where expected[name] == nil {
            throw TrainerModelError.optimizerState(name: name, detail: "not a slot of this model and optimizer")
        }
        for (name, want) in expected {
            guard let got = state[name] else {
                throw TrainerModelError.optimizerState(name: name, detail: "missing")
            }
            guard got.shape == want.shape, got.values.count == want.values.count else {
                throw TrainerModelError.optimizerState(
                    name: name, detail: "shape \(got.shape) with \(got.values.count) values, expected \(want.shape)")
            }
        }
        for (si, slot) in slotNames.enumerated() {
            for id in layout.trainableDense {
                if let b = slotBuffer(dense: true, table: nil, index: si), let v = state["\(spec.denseVariables[id].name)/\(slot)"] {
                    b.copy(from: v.values, to: denseOffsets[id])
                }
            }
            for t in tables {
                if let b = slotBuffer(dense: false, table: t, index: si), let v = state["\(t.name)/\(slot)"] {
                    b.copy(from: v.values, to: 0)
                }
            }
        }
        if case .adam = optimizer.kind {
            if let b1 = state["beta1_power"]?.values.first { beta1Power = b1 }
            if let b2 = state["beta2_power"]?.values.first { beta2Power = b2 }
        }
    }

    /// Fine-tuning (EasyRec's `fine_tune_checkpoint` restores every global variable the
    /// checkpoint holds under the same name, optimizer slots and beta powers included): copies
    /// each entry of `state` whose name and shape match a slot of this model and optimizer;
    /// the others keep their fresh values. Returns the names restored and the ones left fresh.
    @discardableResult
    public func restoreMatchingOptimizerState(_ state: [String: (shape: [Int], values: [Float])])
        -> (restored: [String], fresh: [String]) {
        var restored: [String] = [], fresh: [String] = []
        func matching(_ name: String, _ want: [Int], count: Int) -> [Float]? {
            guard let got = state[name], got.shape == want, got.values.count == count else {
                fresh.append(name)
                return nil
            }
            restored.append(name)
            return got.values
        }
        for (si, slot) in slotNames.enumerated() {
            for id in layout.trainableDense {
                let v = spec.denseVariables[id]
                if let b = slotBuffer(dense: true, table: nil, index: si),
                   let values = matching("\(v.name)/\(slot)", v.shape, count: v.elementCount) {
                    b.copy(from: values, to: denseOffsets[id])
                }
            }
            for t in tables {
                if let b = slotBuffer(dense: false, table: t, index: si),
                   let values = matching("\(t.name)/\(slot)", [t.rowCount, t.dim], count: t.rowCount * t.dim) {
                    b.copy(from: values, to: 0)
                }
            }
        }
        if case .adam = optimizer.kind {
            if let b1 = matching("beta1_power", [], count: 1) { beta1Power = b1[0] }
            if let b2 = matching("beta2_power", [], count: 1) { beta2Power = b2[0] }
        }
        return (restored.sorted(), fresh.sorted())
    }
}
