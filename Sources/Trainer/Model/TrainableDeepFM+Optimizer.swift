extension TrainableDeepFM {
    /// Moving averages of batch norm: `moving -= (moving - batch) * (1 - 0.99)` (TF's
    /// assign_moving_average) with this step's batch mean and biased variance.
    func updateMovingStatistics(rows: Int) {
        guard rows > 0 else { return }
        let p = dense.base
        let decay = 1 - bnMomentum
        for (stack, ls) in [(layout.deepStack, scratch.deepLayers), (layout.topStack, scratch.topLayers)] {
            for (i, l) in stack.enumerated() {
                guard let bn = l.bn else { continue }
                let m = p + denseOffsets[bn.mean], v = p + denseOffsets[bn.variance]
                let bm = ls[i].mean.base, bv = ls[i].variance.base
                for j in 0..<l.outDim {
                    m[j] -= (m[j] - bm[j]) * decay
                    v[j] -= (v[j] - bv[j]) * decay
                }
            }
        }
    }

    /// One update of every trainable dense variable and of every embedding row touched by
    /// the batch (lazy sparse apply; duplicate ids were summed by the backward pass).
    func applyOptimizer(learningRate lr: Float) {
        let rule: UpdateRule
        switch optimizer.kind {
        case .adam(let b1, let b2, let eps):
            let lrT = lr * (1 - beta2Power).squareRoot() / (1 - beta1Power)
            rule = .adam(lr: lrT, beta1: b1, beta2: b2, epsilon: eps)
        case .adagrad:
            rule = .adagrad(lr: lr)
        case .momentum(let m):
            rule = .momentum(lr: lr, momentum: m)
        }
        let p = dense.base, g = denseGrad.base, s1 = denseSlot1.base, s2 = denseSlot2?.base
        // Part 0: dense variables and the first tables; part 1: the remaining tables, chosen so
        // both carry about the same number of floats. Tables are independent objects.
        var denseWork = 0
        for id in layout.trainableDense { denseWork += spec.denseVariables[id].elementCount }
        let tableWork = tables.map { $0.batchRows.count * $0.dim }
        let total = denseWork + tableWork.reduce(0, +)
        var cut = 0, acc = denseWork
        while cut < tables.count && acc + tableWork[cut] <= total / 2 {
            acc += tableWork[cut]
            cut += 1
        }
        let applyTables = { (range: Range<Int>) in
            for t in self.tables[range] {
                let d = t.dim
                for (u, row) in t.batchRows.enumerated() {
                    let o = Int(row) * d
                    rule.apply(t.values.base + o, t.batchGrads.base + u * d, t.slot1.base + o,
                               t.slot2.map { $0.base + o }, count: d)
                    t.markTouched(row)
                }
            }
        }
        let applyDense = {
            for id in self.layout.trainableDense {
                let o = self.denseOffsets[id]
                rule.apply(p + o, g + o, s1 + o, s2.map { $0 + o }, count: self.spec.denseVariables[id].elementCount)
            }
        }
        if let fj = forkJoin, total >= parallelThreshold {
            fj.run { part in
                if part == 0 { applyDense(); applyTables(0..<cut) } else { applyTables(cut..<self.tables.count) }
            }
        } else {
            applyDense()
            applyTables(0..<tables.count)
        }
        if case .adam(let b1, let b2, _) = optimizer.kind {
            beta1Power *= b1
            beta2Power *= b2
        }
    }
}

/// TensorFlow's dense update kernels (ApplyAdam / ApplyAdagrad / ApplyMomentum), also used
/// row by row for sparse updates.
enum UpdateRule {
    /// `lr` already bias-corrected: lr * sqrt(1 - beta2^t) / (1 - beta1^t).
    case adam(lr: Float, beta1: Float, beta2: Float, epsilon: Float)
    case adagrad(lr: Float)
    case momentum(lr: Float, momentum: Float)

    @inline(__always)
    func apply(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ s1: UnsafeMutablePointer<Float>,
               _ s2: UnsafeMutablePointer<Float>?, count n: Int) {
        typealias V = Vector8.V
        var i = 0
        switch self {
        case .adam(let lr, let b1, let b2, let eps):
            guard let v = s2 else { return }
            let c1 = 1 - b1, c2 = 1 - b2
            let c1v = V(repeating: c1), c2v = V(repeating: c2), lrv = V(repeating: lr), epsv = V(repeating: eps)
            while i + 8 <= n {
                let gi = Vector8.load(g + i)
                var m = Vector8.load(s1 + i), vv = Vector8.load(v + i)
                m += (gi - m) * c1v
                vv += (gi * gi - vv) * c2v
                Vector8.store(m, s1 + i)
                Vector8.store(vv, v + i)
                Vector8.store(Vector8.load(w + i) - (m * lrv) / (vv.squareRoot() + epsv), w + i)
                i += 8
            }
            while i < n {
                let gi = g[i]
                s1[i] += (gi - s1[i]) * c1
                v[i] += (gi * gi - v[i]) * c2
                w[i] -= (s1[i] * lr) / (v[i].squareRoot() + eps)
                i += 1
            }
        case .adagrad(let lr):
            let lrv = V(repeating: lr)
            while i + 8 <= n {
                let gi = Vector8.load(g + i)
                let a = Vector8.load(s1 + i) + gi * gi
                Vector8.store(a, s1 + i)
                Vector8.store(Vector8.load(w + i) - lrv * gi / a.squareRoot(), w + i)
                i += 8
            }
            while i < n {
                let gi = g[i]
                s1[i] += gi * gi
                w[i] -= lr * gi / s1[i].squareRoot()
                i += 1
            }
        case .momentum(let lr, let m):
            let lrv = V(repeating: lr), mv = V(repeating: m)
            while i + 8 <= n {
                let a = Vector8.load(s1 + i) * mv + Vector8.load(g + i)
                Vector8.store(a, s1 + i)
                Vector8.store(Vector8.load(w + i) - lrv * a, w + i)
                i += 8
            }
            while i < n {
                s1[i] = s1[i] * m + g[i]
                w[i] -= lr * s1[i]
                i += 1
            }
        }
    }
}
