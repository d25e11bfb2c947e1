import Foundation
import FG
import Inference

/// Builds DeepFM specs by hand with EasyRec's variable names (deepfm.md), and a synthetic
/// labelled stream with a known logistic ground truth. Used by the trainer benchmark (Bench) and tests.
package enum SyntheticModel {
    /// Spec over `columns`: wide and deep tables per feature, dnn / final_dnn / head variables.
    package static func spec(columns: [FeatureColumnSpec], wide: [Int], deep: [Int], wideDim: Int = 1, dim: Int,
                     dnn: [Int], finalDnn: [Int]? = nil, useBN: Bool = true,
                     l2: Float = 0, embeddingRegularization: Float = 0) -> ModelSpec {
        var embeddings: [EmbeddingSpec] = []
        for c in wide {
            embeddings.append(EmbeddingSpec(id: embeddings.count, name: "input_layer/\(columns[c].name)_embedding",
                                            dim: wideDim, rows: columns[c].rows, part: .wide, column: c))
        }
        for c in deep {
            embeddings.append(EmbeddingSpec(id: embeddings.count, name: "input_layer_1/\(columns[c].name)_embedding",
                                            dim: dim, rows: columns[c].rows, part: .deep, column: c))
        }
        var dense: [DenseVariableSpec] = []
        func add(_ name: String, _ shape: [Int]) { dense.append(DenseVariableSpec(id: dense.count, name: name, shape: shape)) }
        func layers(_ scope: String, _ input: Int, _ hidden: [Int]) -> Int {
            var k = input
            for (i, n) in hidden.enumerated() {
                add("\(scope)/dnn_\(i)/kernel", [k, n])
                add("\(scope)/dnn_\(i)/bias", [n])
                if useBN {
                    for v in ["gamma", "beta", "moving_mean", "moving_variance"] { add("\(scope)/dnn_\(i)/bn/\(v)", [n]) }
                }
                k = n
            }
            return k
        }
        let deepOut = layers("deep_feature", deep.count * dim, dnn)
        if let finalDnn {
            let k = layers("final_dnn", 1 + dim + deepOut, finalDnn)
            add("output/kernel", [k, 1])
            add("output/bias", [1])
        } else {
            add("deep_logits/kernel", [deepOut, 1])
            add("deep_logits/bias", [1])
        }
        return ModelSpec(columns: columns, wideFeatures: wide, deepFeatures: deep, embeddings: embeddings,
                         denseVariables: dense, wideOutputDim: wideDim, embeddingDim: dim, dnnHidden: dnn,
                         finalDnnHidden: finalDnn, dnnUseBN: useBN, finalDnnUseBN: useBN,
                         l2Regularization: l2, embeddingRegularization: embeddingRegularization)
    }

    /// A labelled stream: `singleFeatures` one-id features of `cardinality` rows, one tag
    /// feature (1-3 weighted ids, mean combiner) and one key-value feature. Labels follow
    /// a logistic model over per-id weights plus one pairwise interaction.
    package struct Stream {
        let singleFeatures: Int
        let cardinality: Int
        let keyPool: Int
        /// Scale of the per-id ground-truth weights (larger: easier to learn, higher best AUC).
        let signal: Double
        private var rng: ParameterInit.Random
        private let truthSeed: UInt64
        /// Ground-truth click probabilities of the last batch (the best any model can predict).
        private(set) var lastProbabilities: [Float] = []

        package init(singleFeatures: Int, cardinality: Int, keyPool: Int = 5000, signal: Double = 0.6, seed: UInt64) {
            self.singleFeatures = singleFeatures
            self.signal = signal
            self.cardinality = cardinality
            self.keyPool = keyPool
            rng = ParameterInit.Random(seed)
            truthSeed = ParameterInit.mix(seed, 0x7275_7468)
        }

        package func columns(dim: Int) -> [FeatureColumnSpec] {
            var c = (0..<singleFeatures).map {
                FeatureColumnSpec(name: "f\($0)", inputNames: ["f\($0)"], kind: .hashed(bucketSize: cardinality), embeddingDim: dim)
            }
            c.append(FeatureColumnSpec(name: "tags", inputNames: ["tags"], kind: .hashed(bucketSize: cardinality),
                                       embeddingDim: dim, combiner: .mean))
            c.append(FeatureColumnSpec(name: "item_kv", inputNames: ["item_kv"], kind: .keyValue, embeddingDim: dim))
            return c
        }

        /// Ground-truth weight of an id of a feature, roughly N(0, 1).
        private func truth(_ feature: Int, _ id: Int64) -> Double {
            var r = ParameterInit.Random(ParameterInit.mix(ParameterInit.mix(truthSeed, UInt64(feature)), UInt64(bitPattern: id)))
            return r.truncatedNormal()
        }

        private mutating func draw(_ n: Int) -> Int64 {
            // Skewed: square of a uniform favours small ids, like popularity.
            let u = rng.unit()
            return Int64(Double(n) * u * u)
        }

        /// Fill `batch` (reset first) with `size` items and return their labels.
        package mutating func next(into batch: inout EncodedBatch, size: Int) -> [Float] {
            batch.reset()
            lastProbabilities.removeAll(keepingCapacity: true)
            var labels: [Float] = []
            labels.reserveCapacity(size)
            let nCols = singleFeatures + 2
            for _ in 0..<size {
                var z = -0.3
                var first: Int64 = 0
                for f in 0..<singleFeatures {
                    let id = draw(cardinality)
                    if f == 0 { first = id }
                    if f == 1 { z += 0.5 * truth(1000, (first % 8) * 8 + id % 8) }
                    batch.columns[f].append(id: id)
                    batch.columns[f].endItem()
                    z += signal * truth(f, id)
                }
                let tags = 1 + Int(rng.next() % 3)
                var tz = 0.0, tw = 0.0
                for _ in 0..<tags {
                    let id = draw(cardinality)
                    let w = Float(0.5 + rng.unit())
                    batch.columns[singleFeatures].append(id: id, weight: w)
                    tz += Double(w) * truth(500, id)
                    tw += Double(w)
                }
                batch.columns[singleFeatures].endItem()
                z += signal * tz / tw
                let key = Int64(bitPattern: ParameterInit.mix(0x6B6579, UInt64(draw(keyPool)))) & Int64.max
                batch.columns[nCols - 1].append(id: key)
                batch.columns[nCols - 1].endItem()
                z += signal * truth(777, key)
                let p = 1 / (1 + Foundation.exp(-z))
                lastProbabilities.append(Float(p))
                labels.append(rng.unit() < p ? 1 : 0)
            }
            batch.batchSize = size
            return labels
        }
    }
}
