import Foundation
import FG
import Inference
@testable import Trainer

/// The model shapes the gradient and parity suites run over: final_dnn or deep_logits, BN on or off.
struct ModelShapeCase: CustomStringConvertible, Sendable {
    var name: String
    var wideDim: Int
    var finalDnn: [Int]?
    var useBN: Bool
    var description: String { name }

    static let all: [ModelShapeCase] = [
        ModelShapeCase(name: "final_dnn + BN, wide dim 2", wideDim: 2, finalDnn: [3], useBN: true),
        ModelShapeCase(name: "deep_logits, no BN", wideDim: 1, finalDnn: nil, useBN: false),
        ModelShapeCase(name: "deep_logits + BN", wideDim: 1, finalDnn: nil, useBN: true),
    ]
}

/// A straightforward float64 DeepFM (deepfm.md), written independently of the trainer's
/// pointer code: the oracle for gradient checks and inference comparisons.
struct ReferenceDeepFM {
    let spec: ModelSpec
    var dense: [[Double]]
    var fixed: [Int: [[Double]]] = [:]
    var keyed: [Int: [Int64: [Double]]] = [:]
    var bnEpsilon = 1e-3

    init(spec: ModelSpec, parameters: ModelParameters) {
        self.spec = spec
        dense = parameters.dense.map { $0.map(Double.init) }
        for (i, t) in parameters.tables.enumerated() {
            switch t {
            case .fixed(let rows, let dim, let v):
                fixed[i] = (0..<rows).map { r in (0..<dim).map { Double(v[r * dim + $0]) } }
            case .keyValue(let dim, let keys, let v):
                var m: [Int64: [Double]] = [:]
                for (r, k) in keys.enumerated() { m[k] = (0..<dim).map { Double(v[r * dim + $0]) } }
                keyed[i] = m
            }
        }
    }

    func denseId(_ name: String) -> Int {
        guard let v = spec.denseVariables.first(where: { $0.name == name }) else { fatalError("test spec lacks \(name)") }
        return v.id
    }

    func tableId(_ prefix: String, _ column: Int) -> Int {
        let part: EmbeddingSpec.Part = prefix == "input_layer" ? .wide : .deep
        guard let id = spec.tableId(column: column, part: part) else { fatalError("test spec lacks \(prefix) table of \(column)") }
        return id
    }

    func row(_ table: Int, _ id: Int64) -> [Double]? {
        if let t = fixed[table] { return id >= 0 && id < Int64(t.count) ? t[Int(id)] : nil }
        return keyed[table]?[id]
    }

    struct Output {
        var logits: [Double]
        var loss: Double
        /// Per BN layer name (scope/dnn_i): batch mean and biased variance of x W + b.
        var moments: [String: (mean: [Double], variance: [Double])]
    }

    func run(batch: EncodedBatch, labels: [Float]?, training: Bool) -> Output {
        let bsz = batch.batchSize
        let dim = spec.embeddingDim
        var regSq = 0.0
        var wide = [Double](repeating: 0, count: bsz)
        for c in spec.wideFeatures {
            let t = tableId("input_layer", c)
            let col = batch.columns[c]
            for b in 0..<bsz {
                var v = [Double](repeating: 0, count: spec.wideOutputDim)
                for e in Int(col.offsets[b])..<Int(col.offsets[b + 1]) {
                    guard let r = row(t, col.ids[e]) else { continue }
                    for k in v.indices { v[k] += Double(col.weights[e]) * r[k] }
                }
                wide[b] += v.reduce(0, +)
                regSq += v.map { $0 * $0 }.reduce(0, +)
            }
        }
        var deepIn = [[Double]](repeating: [], count: bsz)
        var fm = [[Double]](repeating: [Double](repeating: 0, count: dim), count: bsz)
        for b in 0..<bsz {
            var vs: [[Double]] = []
            for c in spec.deepFeatures {
                let t = tableId("input_layer_1", c)
                let col = batch.columns[c]
                let comb = spec.columns[c].combiner
                var v = [Double](repeating: 0, count: dim)
                var ws = 0.0, wq = 0.0
                for e in Int(col.offsets[b])..<Int(col.offsets[b + 1]) {
                    let w = Double(col.weights[e])
                    guard let r = row(t, col.ids[e]) else {
                        if keyed[t] != nil { ws += w; wq += w * w }       // unknown key: zero row, weight counts
                        continue
                    }
                    ws += w
                    wq += w * w
                    for k in 0..<dim { v[k] += w * r[k] }
                }
                let scale: Double = comb == .sum ? 1 : comb == .mean ? (ws != 0 ? 1 / ws : 0) : (wq > 0 ? 1 / wq.squareRoot() : 0)
                v = v.map { $0 * scale }
                regSq += v.map { $0 * $0 }.reduce(0, +)
                vs.append(v)
                deepIn[b] += v
            }
            for k in 0..<dim {
                let s = vs.map { $0[k] }.reduce(0, +)
                let q = vs.map { $0[k] * $0[k] }.reduce(0, +)
                fm[b][k] = 0.5 * (s * s - q)
            }
        }
        var moments: [String: (mean: [Double], variance: [Double])] = [:]
        var l2Sq = 0.0
        func layer(_ x: [[Double]], _ scope: String, units: Int, bn: Bool, relu: Bool) -> [[Double]] {
            let w = dense[denseId("\(scope)/kernel")], bias = dense[denseId("\(scope)/bias")]
            l2Sq += w.map { $0 * $0 }.reduce(0, +)
            let k = x.first?.count ?? 0
            var z = x.map { xr in (0..<units).map { j in bias[j] + (0..<k).map { xr[$0] * w[$0 * units + j] }.reduce(0, +) } }
            if bn {
                let gamma = dense[denseId("\(scope)/bn/gamma")], beta = dense[denseId("\(scope)/bn/beta")]
                var mean = [Double](repeating: 0, count: units), variance = mean
                if training {
                    for j in 0..<units {
                        mean[j] = z.map { $0[j] }.reduce(0, +) / Double(z.count)
                        variance[j] = z.map { ($0[j] - mean[j]) * ($0[j] - mean[j]) }.reduce(0, +) / Double(z.count)
                    }
                    moments[scope] = (mean, variance)
                } else {
                    mean = dense[denseId("\(scope)/bn/moving_mean")]
                    variance = dense[denseId("\(scope)/bn/moving_variance")]
                }
                z = z.map { zr in (0..<units).map { j in (zr[j] - mean[j]) / (variance[j] + bnEpsilon).squareRoot() * gamma[j] + beta[j] } }
            }
            return relu ? z.map { $0.map { max($0, 0) } } : z
        }
        var deep = deepIn
        for (i, n) in spec.dnnHidden.enumerated() {
            deep = layer(deep, "deep_feature/dnn_\(i)", units: n, bn: spec.dnnUseBN, relu: true)
        }
        var logits = [Double](repeating: 0, count: bsz)
        if let fh = spec.finalDnnHidden {
            var h = (0..<bsz).map { [wide[$0]] + fm[$0] + deep[$0] }
            for (i, n) in fh.enumerated() { h = layer(h, "final_dnn/dnn_\(i)", units: n, bn: spec.finalDnnUseBN, relu: true) }
            let out = layer(h, "output", units: 1, bn: false, relu: false)
            logits = out.map { $0[0] }
        } else {
            let out = layer(deep, "deep_logits", units: 1, bn: false, relu: false)
            logits = (0..<bsz).map { wide[$0] + fm[$0].reduce(0, +) + out[$0][0] }
        }
        var loss = 0.0
        if let labels, bsz > 0 {
            for b in 0..<bsz {
                let l = logits[b], y = Double(labels[b])
                loss += max(l, 0) - l * y + Foundation.log1p(Foundation.exp(-abs(l)))
            }
            loss /= Double(bsz)
            loss += Double(spec.l2Regularization) * l2Sq / 2 + Double(spec.embeddingRegularization) * regSq / 2
        }
        return Output(logits: logits, loss: loss, moments: moments)
    }
}

enum ModelFixtures {
    /// Columns: sum id feature, mean tag feature (weighted), sqrtn tag feature, weighted raw
    /// feature, and a key-value feature.
    static func columns(dim: Int) -> [FeatureColumnSpec] {
        [
            FeatureColumnSpec(name: "user", inputNames: ["user"], kind: .hashed(bucketSize: 7), embeddingDim: dim),
            FeatureColumnSpec(name: "tags", inputNames: ["tags"], kind: .hashed(bucketSize: 6), embeddingDim: dim, combiner: .mean),
            FeatureColumnSpec(name: "cats", inputNames: ["cats"], kind: .identity(numBuckets: 5), embeddingDim: dim, combiner: .sqrtn),
            FeatureColumnSpec(name: "price", inputNames: ["price"], kind: .raw(dimension: 2), embeddingDim: dim),
            FeatureColumnSpec(name: "item", inputNames: ["item"], kind: .keyValue, embeddingDim: dim),
        ]
    }

    /// A deterministic batch over ``columns(dim:)``; some items miss some features.
    static func batch(size: Int, seed: UInt64) -> (EncodedBatch, [Float]) {
        var rng = ParameterInit.Random(seed)
        var b = EncodedBatch(columnCount: 5)
        var labels: [Float] = []
        for i in 0..<size {
            if i % 5 != 4 { b.columns[0].append(id: Int64(rng.next() % 7)) }
            b.columns[0].endItem()
            for _ in 0..<Int(rng.next() % 3) { b.columns[1].append(id: Int64(rng.next() % 6), weight: Float(0.5 + rng.unit())) }
            if i % 3 == 0 { b.columns[1].append(id: 5, weight: -0.2) }   // negative weights count in the mean
            b.columns[1].endItem()
            for _ in 0..<Int(1 + rng.next() % 3) { b.columns[2].append(id: Int64(rng.next() % 5), weight: Float(0.3 + rng.unit())) }
            b.columns[2].endItem()
            b.columns[3].append(id: 0, weight: Float(rng.unit() * 2 - 1))
            b.columns[3].append(id: 1, weight: Float(rng.unit()))
            b.columns[3].endItem()
            b.columns[4].append(id: Int64(bitPattern: rng.next() % 4 &* 0x9E37_79B9_7F4A_7C15) & Int64.max)
            b.columns[4].endItem()
            labels.append(rng.next() % 2 == 0 ? 1 : 0)
        }
        b.batchSize = size
        return (b, labels)
    }

    static func spec(wideDim: Int = 1, dim: Int = 3, dnn: [Int] = [5, 4], finalDnn: [Int]? = nil, useBN: Bool = true,
                     l2: Float = 0.01, embReg: Float = 0.02) -> ModelSpec {
        SyntheticModel.spec(columns: columns(dim: dim), wide: [0, 1, 3, 4], deep: [0, 1, 2, 3, 4], wideDim: wideDim,
                            dim: dim, dnn: dnn, finalDnn: finalDnn, useBN: useBN, l2: l2, embeddingRegularization: embReg)
    }

    /// Initial parameters with non-trivial BN values (gamma, beta, moving statistics) and
    /// biases, so every term of the forward pass matters.
    static func parameters(spec: ModelSpec, seed: UInt64) -> ModelParameters {
        var p = TrainableDeepFM.initialParameters(spec: spec, seed: seed)
        var rng = ParameterInit.Random(seed ^ 0xABCD)
        for v in spec.denseVariables where !v.name.hasSuffix("kernel") {
            p.dense[v.id] = p.dense[v.id].map { x in
                v.name.hasSuffix("variance") ? Float(0.5 + rng.unit()) : x + Float(rng.unit() * 0.4 - 0.2)
            }
        }
        return p
    }

    static let adam = OptimizerSettings(kind: .defaultAdam, learningRate: .constant(0.01))
}
