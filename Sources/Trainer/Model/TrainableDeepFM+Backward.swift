import Foundation
import FG

extension TrainableDeepFM {
    /// Forward (training mode) then backward: fills `denseGrad` and every table's batch
    /// gradients; returns the mean loss including regularisation.
    func forwardBackward(batch: EncodedBatch, labels: [Float], training: Bool) -> Float {
        let rows = batch.batchSize
        forward(batch: batch, training: training)
        let s = scratch
        let grad = denseGrad.base
        grad.update(repeating: 0, count: denseGrad.count)
        for t in tables { t.beginBatch() }
        guard rows > 0 else { return regularizationLoss(rows: 0) }

        // Loss and d loss / d logit (mean sigmoid cross-entropy).
        let logits = s.logits.base, probs = s.probs.base
        let gLogit = s.gradA.base
        var ce: Double = 0
        let invB = 1 / Float(rows)
        for b in 0..<rows {
            let l = logits[b], y = labels[b]
            ce += Double(max(l, 0) - l * y + Foundation.log1p(Foundation.exp(-abs(l))))
            gLogit[b] = (probs[b] - y) * invB
        }
        let loss = Float(ce / Double(rows)) + regularizationLoss(rows: rows)

        // Back through the layers to d deep input, d fm and d wide.
        let d = layout.deepDim, kOut = layout.deepOutputDim
        let dWide: UnsafeMutablePointer<Float>, dFM: UnsafeMutablePointer<Float>, fmStride: Int
        let dDeepIn: UnsafeMutablePointer<Float>
        if layout.finalDnn != nil {
            let h = s.headInputDim
            let dh0 = backLayers(layout.topStack, s.topLayers, input: s.h0.base, rows: rows,
                                 gradOut: gLogit, spare: s.gradB.base)
            // dh0 is one of the ping-pong buffers; copy its deep slice out before reusing them.
            let gd = s.gradDeep.base
            for b in 0..<rows { (gd + b * kOut).update(from: dh0 + b * h + 1 + d, count: kOut) }
            dWide = dh0
            dFM = dh0 + 1
            fmStride = h
            // dh0 lives in gradA or gradB: run the deep stack in the other one and gradDeep.
            let free = dh0 == s.gradA.base ? s.gradB.base : s.gradA.base
            dDeepIn = backLayers(layout.deepStack, s.deepLayers, input: s.deepIn.base, rows: rows,
                                 gradOut: gd, spare: free)
        } else {
            // logits = wide + sum(fm) + head(deep): d wide = d fm_k = d logit.
            let g = s.gradDeep.base
            g.update(from: gLogit, count: rows)
            dWide = g
            dFM = g
            fmStride = 1
            dDeepIn = backLayers(layout.deepStack, s.deepLayers, input: s.deepIn.base, rows: rows,
                                 gradOut: s.gradA.base, spare: s.gradB.base)
        }
        scatterAll(rows: rows, dDeepIn: dDeepIn, dFM: dFM, fmStride: fmStride, dWide: dWide,
                   wideStride: layout.finalDnn == nil ? 1 : s.headInputDim, batchColumns: batch.columns)

        // l2 on kernels.
        let l2 = spec.l2Regularization
        if l2 != 0 {
            let p = dense.base
            for k in layout.kernels {
                let o = denseOffsets[k], n = spec.denseVariables[k].elementCount
                for i in o..<(o + n) { grad[i] += l2 * p[i] }
            }
        }
        return loss
    }

    /// l2 * sum(W^2)/2 over kernels + emb_reg * sum(e^2)/2 over this batch's embedding outputs.
    func regularizationLoss(rows: Int) -> Float {
        var total: Double = 0
        let l2 = spec.l2Regularization
        if l2 != 0 {
            let p = dense.base
            var sq: Double = 0
            for k in layout.kernels {
                let o = denseOffsets[k]
                for i in o..<(o + spec.denseVariables[k].elementCount) { sq += Double(p[i] * p[i]) }
            }
            total += Double(l2) * sq / 2
        }
        let er = spec.embeddingRegularization
        if er != 0 && rows > 0 {
            var sq: Double = 0
            let w = scratch.wideOut.base, nw = rows * layout.wideTables.count * layout.wideDim
            for i in 0..<nw { sq += Double(w[i] * w[i]) }
            let v = scratch.deepIn.base, nv = rows * layout.deepInputDim
            for i in 0..<nv { sq += Double(v[i] * v[i]) }
            total += Double(er) * sq / 2
        }
        return Float(total)
    }

    /// Backward through `layers` given d(last output) in `gradOut`. Accumulates parameter
    /// gradients and returns d(input) (in `gradOut` or `spare`; `gradOut` itself when empty).
    func backLayers(_ layers: [DenseLayerLayout], _ ls: [LayerScratch], input: UnsafeMutablePointer<Float>,
                    rows: Int, gradOut: UnsafeMutablePointer<Float>, spare: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        var g = gradOut, other = spare
        let p = dense.base, grad = denseGrad.base
        let invB = 1 / Float(max(rows, 1))
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let l = layers[i], sc = ls[i]
            let n = l.outDim, k = l.inDim
            let act = sc.act.base, pre = sc.pre.base
            let x = i == 0 ? input : ls[i - 1].act.base
            if l.relu {
                for q in 0..<(rows * n) where !(act[q] > 0) { g[q] = 0 }
            }
            if let bn = l.bn {
                let gamma = p + denseOffsets[bn.gamma], inv = sc.invStd.base
                let dGamma = grad + denseOffsets[bn.gamma], dBeta = grad + denseOffsets[bn.beta]
                let sum1 = sc.sum1.base, sum2 = sc.sum2.base
                sum1.update(repeating: 0, count: n)
                sum2.update(repeating: 0, count: n)
                for b in 0..<rows {
                    let gr = g + b * n, xh = pre + b * n
                    for j in 0..<n {
                        dGamma[j] += gr[j] * xh[j]
                        dBeta[j] += gr[j]
                        let dx = gr[j] * gamma[j]
                        gr[j] = dx
                        sum1[j] += dx
                        sum2[j] += dx * xh[j]
                    }
                }
                for b in 0..<rows {
                    let gr = g + b * n, xh = pre + b * n
                    for j in 0..<n { gr[j] = inv[j] * (gr[j] - sum1[j] * invB - xh[j] * sum2[j] * invB) }
                }
            }
            let dBias = grad + denseOffsets[l.bias]
            for b in 0..<rows {
                let gr = g + b * n
                for j in 0..<n { dBias[j] += gr[j] }
            }
            let dW = grad + denseOffsets[l.kernel], gIn = g, dx = other
            split(k, work: rows * k * n) { lo, hi in
                DenseKernels.accumulateWeightGrad(x, rows: rows, k: k, gIn, n: n, dW, kRange: lo..<hi)
            }
            let wT = scratch.transposed.base
            DenseKernels.transpose(p + denseOffsets[l.kernel], k: k, n: n, wT)
            split(rows, work: rows * k * n) { lo, hi in
                DenseKernels.inputGrad(gIn + lo * n, rows: hi - lo, n: n, wT, k: k, dx + lo * k)
            }
            swap(&g, &other)
        }
        return g
    }

    /// Per-row gradients of all tables, features split over the compute threads by table
    /// groups like the lookups (a table is only ever written by one thread).
    private func scatterAll(rows: Int, dDeepIn: UnsafeMutablePointer<Float>, dFM: UnsafeMutablePointer<Float>,
                            fmStride: Int, dWide: UnsafeMutablePointer<Float>, wideStride: Int,
                            batchColumns: [EncodedBatch.Column]) {
        let fmBroadcast = layout.finalDnn == nil
        let run = { (units: [LookupUnit], thread: Int) in
            for u in units {
                switch u {
                case .wide(let j):
                    self.scatterWide(j, rows: rows, dWide: dWide, stride: wideStride, batchColumns: batchColumns,
                                     temp: self.scratch.rowGrad[thread].base)
                case .deep(let f):
                    self.scatterDeep(f, rows: rows, dDeepIn: dDeepIn, dFM: dFM, fmStride: fmStride,
                                     fmBroadcast: fmBroadcast, batchColumns: batchColumns,
                                     temp: self.scratch.rowGrad[thread].base)
                }
            }
        }
        let parts = layout.lookupPartition
        let work = rows * (layout.wideTables.count * layout.wideDim + layout.deepInputDim)
        if let fj = forkJoin, parts.count == 2, work >= parallelThreshold / 8 {
            fj.run { part in run(parts[part], part) }
        } else {
            for p in parts { run(p, 0) }
        }
    }

    /// Deep feature f: d deep input + FM + embedding regularisation -> its table's row gradients.
    private func scatterDeep(_ f: Int, rows: Int, dDeepIn: UnsafeMutablePointer<Float>, dFM: UnsafeMutablePointer<Float>,
                             fmStride: Int, fmBroadcast: Bool, batchColumns: [EncodedBatch.Column],
                             temp dv: UnsafeMutablePointer<Float>) {
        let s = scratch
        let d = layout.deepDim, width = layout.deepInputDim
        let v = s.deepIn.base, sum = s.fmSum.base
        let er = spec.embeddingRegularization
        let t = tables[layout.deepTables[f]]
        let col = batchColumns[layout.deepColumns[f]]
        let resolved = s.deepEntries[f].rows, scales = s.deepEntries[f].scales
        for b in 0..<rows {
            let x = v + b * width + f * d, gi = dDeepIn + b * width + f * d, sb = sum + b * d
            let fmRow = dFM + b * fmStride
            for k in 0..<d {
                let dfm = fmBroadcast ? fmRow[0] : fmRow[k]
                dv[k] = gi[k] + dfm * (sb[k] - x[k]) + er * x[k]
            }
            let scale = scales[b]
            for e in Int(col.offsets[b])..<Int(col.offsets[b + 1]) {
                let row = resolved[e]
                if row < 0 { continue }
                Vector8.axpy(d, scale * col.weights[e], dv, t.gradRow(row))
            }
        }
    }

    /// Wide feature j: d wide sum + embedding regularisation -> its table's row gradients.
    private func scatterWide(_ j: Int, rows: Int, dWide: UnsafeMutablePointer<Float>, stride: Int,
                             batchColumns: [EncodedBatch.Column], temp dw: UnsafeMutablePointer<Float>) {
        let s = scratch
        let wd = layout.wideDim, nw = layout.wideTables.count
        let out = s.wideOut.base
        let er = spec.embeddingRegularization
        let t = tables[layout.wideTables[j]]
        let col = batchColumns[layout.wideColumns[j]]
        let resolved = s.wideEntries[j].rows
        for b in 0..<rows {
            let g = dWide[b * stride]
            let o = out + (b * nw + j) * wd
            for k in 0..<wd { dw[k] = g + er * o[k] }
            for e in Int(col.offsets[b])..<Int(col.offsets[b + 1]) {
                let row = resolved[e]
                if row < 0 { continue }
                Vector8.axpy(wd, col.weights[e], dw, t.gradRow(row))
            }
        }
    }
}
