/// One DNN layer laid out for ``Gemm``: `relu(bn(x W + b))` with inference batch norm folded
/// into the kernel and bias (`W' = W * scale`, `b' = (b - mean) * scale + beta`, scale =
/// gamma / sqrt(var + 1e-3)), W packed into 32-column panels, columns zero-padded to `np`
/// (padding columns come out as 0 after relu).
struct PreparedLayer: Sendable {
    let k: Int
    let n: Int
    let np: Int
    let kernel: [Float]
    let bias: [Float]

    static let epsilon: Float = 1e-3

    /// `kernel` is row-major `[k, n]` with `k * n` values and the other vectors have `n`
    /// (the caller checks).
    init(k: Int, n: Int, kernel: [Float], bias: [Float], gamma: [Float]?, beta: [Float]?,
         mean: [Float]?, variance: [Float]?) {
        self.k = k
        self.n = n
        let np = (n + Gemm.panelWidth - 1) / Gemm.panelWidth * Gemm.panelWidth
        self.np = np
        var w = kernel
        var b = bias + [Float](repeating: 0, count: np - n)
        if let gamma, let beta, let mean, let variance {
            for c in 0..<n {
                let scale = gamma[c] / (variance[c] + PreparedLayer.epsilon).squareRoot()
                for r in 0..<k { w[r * n + c] *= scale }
                b[c] = (bias[c] - mean[c]) * scale + beta[c]
            }
        }
        self.kernel = Gemm.pack(w, k: k, n: n, np: np)
        self.bias = b
    }

    /// `out[m, np] = relu(in[m, k] W' + b')`.
    func forward(input: UnsafePointer<Float>, lda: Int, m: Int, output: UnsafeMutablePointer<Float>) {
        kernel.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                guard let wp = w.baseAddress, let bp = b.baseAddress else { return }
                Gemm.multiply(a: input, lda: lda, m: m, k: k, packed: wp, np: np, bias: bp, relu: true, c: output, ldc: np)
            }
        }
    }
}

/// The DNN part of DeepFM prepared from a dense snapshot: `deep_feature` layers, optional
/// `final_dnn` layers, and the 1-unit head (`output` or `deep_logits`).
final class PreparedNetwork: Sendable {
    let deep: [PreparedLayer]
    let final: [PreparedLayer]?
    let headKernel: [Float]
    let headBias: Float
    /// Widest padded layer output.
    let maxWidth: Int

    init(spec: ModelSpec, values: [[Float]]) throws(ModelSpecError) {
        func layers(_ scope: String, _ hidden: [Int], bn: Bool, input: Int) throws(ModelSpecError) -> [PreparedLayer] {
            let ids = try spec.layerIds(scope: scope, count: hidden.count, bn: bn)
            var k = input
            var out: [PreparedLayer] = []
            for (l, n) in zip(ids, hidden) {
                guard values[l.kernel].count == k * n, values[l.bias].count == n else {
                    throw .invalid("\(scope) layer of \(n) units: kernel/bias sizes do not match input \(k)")
                }
                for v in [l.gamma, l.beta, l.mean, l.variance].compactMap({ $0 }) where values[v].count != n {
                    throw .invalid("\(scope) layer of \(n) units: batch-norm vector of \(values[v].count) values")
                }
                out.append(PreparedLayer(k: k, n: n, kernel: values[l.kernel], bias: values[l.bias],
                                         gamma: l.gamma.map { values[$0] }, beta: l.beta.map { values[$0] },
                                         mean: l.mean.map { values[$0] }, variance: l.variance.map { values[$0] }))
                k = n
            }
            return out
        }
        let d = spec.embeddingDim
        deep = try layers("deep_feature", spec.dnnHidden, bn: spec.dnnUseBN, input: spec.deepFeatures.count * d)
        let deepOut = spec.dnnHidden.last ?? spec.deepFeatures.count * d
        let headName: String
        if let fh = spec.finalDnnHidden {
            final = try layers("final_dnn", fh, bn: spec.finalDnnUseBN, input: 1 + d + deepOut)
            headName = "output"
        } else {
            final = nil
            headName = "deep_logits"
        }
        guard let hk = spec.denseVariableId(named: "\(headName)/kernel"),
              let hb = spec.denseVariableId(named: "\(headName)/bias") else {
            throw .invalid("dense variables \(headName)/kernel and \(headName)/bias missing")
        }
        let headIn = spec.finalDnnHidden.map { $0.last ?? (1 + d + deepOut) } ?? deepOut
        guard values[hk].count == headIn, values[hb].count == 1 else {
            throw .invalid("\(headName): kernel must be [\(headIn), 1] and bias [1]")
        }
        headKernel = values[hk]
        headBias = values[hb][0]
        maxWidth = ((deep + (final ?? [])).map(\.np).max() ?? 0)
    }
}
