import Foundation
import FG

extension TrainableDeepFM {
    /// The forward pass of deepfm.md into `scratch`: logits and probs for `batch.batchSize` items.
    /// Training uses batch statistics in batch norm and inserts unseen key-value rows.
    func forward(batch: EncodedBatch, training: Bool) {
        let rows = batch.batchSize
        let s = scratch
        s.prepare(rows: rows)
        lookupAll(batch: batch, training: training)
        computeFM(rows: rows)
        let deepOut = runLayers(layout.deepStack, s.deepLayers, input: s.deepIn.base, rows: rows, training: training)
        let logits = s.logits.base
        if layout.finalDnn != nil {
            let h = s.headInputDim, d = layout.deepDim, k = layout.deepOutputDim
            let h0 = s.h0.base
            for b in 0..<rows {
                let o = h0 + b * h
                o[0] = s.wideSum.base[b]
                (o + 1).update(from: s.fm.base + b * d, count: d)
                (o + 1 + d).update(from: deepOut + b * k, count: k)
            }
            let out = runLayers(layout.topStack, s.topLayers, input: h0, rows: rows, training: training)
            logits.update(from: out, count: rows)
        } else {
            let d = layout.deepDim
            for b in 0..<rows {
                var fmTotal: Float = 0
                let f = s.fm.base + b * d
                for j in 0..<d { fmTotal += f[j] }
                logits[b] = s.wideSum.base[b] + fmTotal + deepOut[b]
            }
        }
        let probs = s.probs.base
        for b in 0..<rows { probs[b] = 1 / (1 + Foundation.exp(-logits[b])) }
    }

    /// Wide and deep embedding lookups; features are split over the compute threads by
    /// table groups (``ModelLayout/lookupPartition``), then wideSum = sum of all wide outputs.
    private func lookupAll(batch: EncodedBatch, training: Bool) {
        let s = scratch
        let rows = batch.batchSize, wd = layout.wideDim, nw = layout.wideTables.count
        s.wideOut.base.update(repeating: 0, count: rows * nw * wd)
        s.deepIn.base.update(repeating: 0, count: rows * layout.deepInputDim)
        let run = { (units: [LookupUnit]) in
            for u in units {
                switch u {
                case .wide(let j): self.lookupWide(j, batch: batch, training: training)
                case .deep(let f): self.lookupDeep(f, batch: batch, training: training)
                }
            }
        }
        let parts = layout.lookupPartition
        if let fj = forkJoin, parts.count == 2, batch.columns.count > 0,
           rows * (nw * wd + layout.deepInputDim) >= parallelThreshold / 8 {
            fj.run { part in run(parts[part]) }
        } else {
            for p in parts { run(p) }
        }
        let out = s.wideOut.base, sum = s.wideSum.base
        let width = nw * wd
        for b in 0..<rows {
            var acc: Float = 0
            let o = out + b * width
            for k in 0..<width { acc += o[k] }
            sum[b] = acc
        }
    }

    /// Wide feature j: a `wide_output_dim` embedding, combiner sum.
    private func lookupWide(_ j: Int, batch: EncodedBatch, training: Bool) {
        let rows = batch.batchSize, wd = layout.wideDim, nw = layout.wideTables.count
        let out = scratch.wideOut.base
        let t = tables[layout.wideTables[j]]
        let col = batch.columns[layout.wideColumns[j]]
        // Work on a local array (no per-append exclusivity check on the class property).
        var resolved: [Int32] = []
        swap(&resolved, &scratch.wideEntries[j].rows)
        resolved.removeAll(keepingCapacity: true)
        resolved.reserveCapacity(col.ids.count)
        for b in 0..<rows {
            let o = out + (b * nw + j) * wd
            for e in Int(col.offsets[b])..<Int(col.offsets[b + 1]) {
                let row = training ? t.trainingRow(col.ids[e]) : t.lookupRow(col.ids[e])
                guard let row else { resolved.append(-1); continue }
                resolved.append(row)
                Vector8.axpy(wd, col.weights[e], t.values.base + Int(row) * wd, o)
            }
        }
        swap(&resolved, &scratch.wideEntries[j].rows)
    }

    /// Deep feature f: a D-wide embedding combined with the feature's combiner: sum Σw·e,
    /// mean Σw·e/Σw, sqrtn Σw·e/sqrt(Σw²), zero denominator -> zero vector (as the Inference
    /// forward). An unknown key-value key (inference) is a zero row whose weight counts; a
    /// fixed id out of range is dropped.
    private func lookupDeep(_ f: Int, batch: EncodedBatch, training: Bool) {
        let rows = batch.batchSize, d = layout.deepDim
        let width = layout.deepInputDim
        let out = scratch.deepIn.base
        let t = tables[layout.deepTables[f]]
        let c = layout.deepColumns[f]
        let col = batch.columns[c]
        let combiner = spec.columns[c].combiner
        let entries = scratch.deepEntries[f]
        var resolved: [Int32] = [], scales: [Float] = []
        swap(&resolved, &entries.rows)
        swap(&scales, &entries.scales)
        resolved.removeAll(keepingCapacity: true)
        resolved.reserveCapacity(col.ids.count)
        scales.removeAll(keepingCapacity: true)
        scales.reserveCapacity(rows)
        for b in 0..<rows {
            let o = out + b * width + f * d
            var wsum: Float = 0, wsq: Float = 0
            for e in Int(col.offsets[b])..<Int(col.offsets[b + 1]) {
                let w = col.weights[e]
                let row = training ? t.trainingRow(col.ids[e]) : t.lookupRow(col.ids[e])
                guard let row else {
                    // An unknown key-value key reads as a zero row but its weight still counts
                    // (TF embedding variables, and the Inference forward); a fixed id out of
                    // range is dropped.
                    if t.isKeyValue {
                        wsum += w
                        wsq += w * w
                    }
                    resolved.append(-1)
                    continue
                }
                resolved.append(row)
                wsum += w
                wsq += w * w
                Vector8.axpy(d, w, t.values.base + Int(row) * d, o)
            }
            var scale: Float = 1
            switch combiner {
            case .sum: scale = 1
            case .mean: scale = wsum != 0 ? 1 / wsum : 0
            case .sqrtn: scale = wsq > 0 ? 1 / wsq.squareRoot() : 0
            }
            if scale != 1 { for k in 0..<d { o[k] *= scale } }
            scales.append(scale)
        }
        swap(&resolved, &entries.rows)
        swap(&scales, &entries.scales)
    }

    /// fm = 0.5 * ((sum_f V)^2 - sum_f V^2), per item a D vector; keeps sum_f V for backward.
    private func computeFM(rows: Int) {
        let s = scratch
        let d = layout.deepDim, nf = layout.deepTables.count
        let v = s.deepIn.base, sum = s.fmSum.base, fm = s.fm.base
        for b in 0..<rows {
            let sb = sum + b * d, fb = fm + b * d
            sb.update(repeating: 0, count: d)
            fb.update(repeating: 0, count: d)          // holds sum of squares until the end
            for f in 0..<nf {
                let x = v + b * nf * d + f * d
                for k in 0..<d {
                    sb[k] += x[k]
                    fb[k] += x[k] * x[k]
                }
            }
            for k in 0..<d { fb[k] = 0.5 * (sb[k] * sb[k] - fb[k]) }
        }
    }

    /// Dense layers in order; returns the last output (or `input` when there are none).
    func runLayers(_ layers: [DenseLayerLayout], _ ls: [LayerScratch], input: UnsafeMutablePointer<Float>,
                   rows: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        var x = input
        let p = dense.base
        for (i, l) in layers.enumerated() {
            let sc = ls[i]
            let n = l.outDim
            let pre = sc.pre.base, act = sc.act.base
            let w = p + denseOffsets[l.kernel], bias = p + denseOffsets[l.bias], k = l.inDim
            split(rows, work: rows * k * n) { lo, hi in
                DenseKernels.affine(x + lo * k, rows: hi - lo, k: k, w, n: n, bias: bias, pre + lo * n)
            }
            if let bn = l.bn {
                let mean = sc.mean.base, variance = sc.variance.base, inv = sc.invStd.base
                if training {
                    batchMoments(pre, rows: rows, n: n, mean: mean, variance: variance)
                } else {
                    mean.update(from: p + denseOffsets[bn.mean], count: n)
                    variance.update(from: p + denseOffsets[bn.variance], count: n)
                }
                for j in 0..<n { inv[j] = 1 / (variance[j] + bnEpsilon).squareRoot() }
                let gamma = p + denseOffsets[bn.gamma], beta = p + denseOffsets[bn.beta]
                for b in 0..<rows {
                    let z = pre + b * n, a = act + b * n
                    for j in 0..<n {
                        let xh = (z[j] - mean[j]) * inv[j]
                        z[j] = xh
                        let y = xh * gamma[j] + beta[j]
                        a[j] = l.relu ? max(y, 0) : y
                    }
                }
            } else if l.relu {
                for q in 0..<(rows * n) { act[q] = max(pre[q], 0) }
            } else {
                act.update(from: pre, count: rows * n)
            }
            x = act
        }
        return x
    }

    /// Batch mean and biased variance per column (tf.nn.moments).
    private func batchMoments(_ z: UnsafeMutablePointer<Float>, rows: Int, n: Int,
                              mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        mean.update(repeating: 0, count: n)
        variance.update(repeating: 0, count: n)
        guard rows > 0 else { return }
        for b in 0..<rows {
            let r = z + b * n
            for j in 0..<n { mean[j] += r[j] }
        }
        let inv = 1 / Float(rows)
        for j in 0..<n { mean[j] *= inv }
        for b in 0..<rows {
            let r = z + b * n
            for j in 0..<n {
                let c = r[j] - mean[j]
                variance[j] += c * c
            }
        }
        for j in 0..<n { variance[j] *= inv }
    }
}
