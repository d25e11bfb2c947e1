import Foundation
import Testing
import FG
import Inference
@testable import Trainer

/// Analytic gradients of every parameter kind against central finite differences of the
/// independent float64 reference model.
@Suite("Model gradients")
struct ModelGradientTests {
    typealias Case = ModelShapeCase
    static let cases = ModelShapeCase.all

    @Test("shared embedding tables (embedding_name): gradients of both features meet in one table")
    func sharedTables() throws {
        var columns = ModelFixtures.columns(dim: 3)
        columns[1] = FeatureColumnSpec(name: "tags", inputNames: ["tags"], kind: .hashed(bucketSize: 7), embeddingDim: 3,
                                       combiner: .mean, embeddingName: "shared_id")
        columns[0].embeddingName = "shared_id"
        let spec = try ModelSpec.make(columns: columns, wideFeatures: [0, 1, 3], deepFeatures: [0, 1, 2, 3, 4],
                                      dnnHidden: [4], finalDnnHidden: [3], l2Regularization: 0.01,
                                      embeddingRegularization: 0.02)
        #expect(spec.embeddings.count == 2 + 4)                  // wide: shared + price; deep: shared + cats + price + item
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 3),
                                        optimizer: ModelFixtures.adam)
        let (batch, labels) = ModelFixtures.batch(size: 7, seed: 5)
        let g = try #require(model.gradients(batch: batch, labels: labels))
        let reference = ReferenceDeepFM(spec: spec, parameters: model.parameters())
        let h = 1e-5
        let shared = try #require(spec.embeddingId(named: "input_layer_1/shared_id"))
        let sharedWide = try #require(spec.embeddingId(named: "input_layer/shared_id_wide"))
        for id in [shared, sharedWide] {
            let e = spec.embeddings[id]
            for key in 0..<Int64(7) {
                for k in 0..<e.dim {
                    var plus = reference, minus = reference
                    plus.fixed[id]?[Int(key)][k] += h
                    minus.fixed[id]?[Int(key)][k] -= h
                    let n = (plus.run(batch: batch, labels: labels, training: true).loss
                             - minus.run(batch: batch, labels: labels, training: true).loss) / (2 * h)
                    let a = Double(g.sparse[id]?[key]?[k] ?? 0)
                    #expect(Self.close(a, n), "\(e.name) row \(key)[\(k)] analytic \(a) numeric \(n)")
                }
            }
        }
    }

    static func close(_ a: Double, _ n: Double) -> Bool {
        abs(a - n) <= 2e-3 * max(abs(a), abs(n)) + 2e-5
    }

    @Test("gradients match finite differences", arguments: cases)
    func gradientCheck(_ c: Case) throws {
        let spec = ModelFixtures.spec(wideDim: c.wideDim, finalDnn: c.finalDnn, useBN: c.useBN)
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 3),
                                        optimizer: ModelFixtures.adam)
        let (batch, labels) = ModelFixtures.batch(size: 9, seed: 11)
        let g = try #require(model.gradients(batch: batch, labels: labels))
        // Key-value rows exist now (inserted by the training forward): the reference sees them too.
        let reference = ReferenceDeepFM(spec: spec, parameters: model.parameters())
        let base = reference.run(batch: batch, labels: labels, training: true)
        #expect(abs(Double(g.loss) - base.loss) <= 1e-5 * abs(base.loss))
        for b in 0..<batch.batchSize {
            #expect(abs(Double(g.probs[b]) - 1 / (1 + exp(-base.logits[b]))) <= 1e-6)
        }
        let h = 1e-5
        func numeric(_ mutate: (inout ReferenceDeepFM, Double) -> Void) -> Double {
            var plus = reference, minus = reference
            mutate(&plus, h)
            mutate(&minus, -h)
            return (plus.run(batch: batch, labels: labels, training: true).loss
                    - minus.run(batch: batch, labels: labels, training: true).loss) / (2 * h)
        }
        var largest: [String: Double] = [:]
        for v in spec.denseVariables {
            let trainable = !v.name.hasSuffix("moving_mean") && !v.name.hasSuffix("moving_variance")
            for i in 0..<v.elementCount {
                let a = Double(g.dense[v.id][i])
                let n = trainable ? numeric { $0.dense[v.id][i] += $1 } : 0
                #expect(Self.close(a, n), "\(c): \(v.name)[\(i)] analytic \(a) numeric \(n)")
                largest[v.name, default: 0] = max(largest[v.name, default: 0], abs(a))
            }
        }
        for e in spec.embeddings {
            let grads = g.sparse[e.id] ?? [:]
            let keys: [Int64] = e.rows.map { (0..<Int64($0)).map { $0 } } ?? Array(reference.keyed[e.id]?.keys ?? [:].keys)
            #expect(!keys.isEmpty)
            for key in keys {
                for k in 0..<e.dim {
                    let a = Double(grads[key]?[k] ?? 0)
                    let n = numeric { r, d in
                        if r.fixed[e.id] != nil { r.fixed[e.id]?[Int(key)][k] += d } else { r.keyed[e.id]?[key]?[k] += d }
                    }
                    #expect(Self.close(a, n), "\(c): \(e.name) row \(key)[\(k)] analytic \(a) numeric \(n)")
                    largest[e.name, default: 0] = max(largest[e.name, default: 0], abs(a))
                }
            }
        }
        // Every trainable kind really carries gradient (BN makes the preceding bias's gradient 0).
        for (name, m) in largest where !name.hasSuffix("moving_mean") && !name.hasSuffix("moving_variance") {
            let biasBeforeBN = c.useBN && name.hasSuffix("/bias") && name.contains("dnn_")
            if !biasBeforeBN { #expect(m > 1e-6, "\(c): \(name) has no gradient") }
        }
    }

    @Test("inference-mode logits match the float64 reference", arguments: cases)
    func inferenceMatchesReference(_ c: Case) throws {
        let spec = ModelFixtures.spec(wideDim: c.wideDim, finalDnn: c.finalDnn, useBN: c.useBN)
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 5),
                                        optimizer: ModelFixtures.adam)
        let (batch, labels) = ModelFixtures.batch(size: 12, seed: 2)
        for _ in 0..<3 { _ = model.trainStep(batch: batch, labels: labels) }
        let reference = ReferenceDeepFM(spec: spec, parameters: model.parameters())
        let want = reference.run(batch: batch, labels: nil, training: false).logits
        let got = model.predictLogits(batch: batch)
        let probs = model.predict(batch: batch)
        #expect(got.count == want.count)
        for (i, (a, b)) in zip(got, want).enumerated() {
            #expect(abs(Double(a) - b) <= 1e-5 * max(1, abs(b)), "item \(i)")
            #expect(abs(Double(probs[i]) - 1 / (1 + exp(-b))) <= 1e-6, "item \(i)")
        }
    }

    @Test("unknown key-value keys in a mean feature: zero rows whose weights count")
    func unknownKeyInMean() throws {
        var columns = ModelFixtures.columns(dim: 3)
        columns[4].combiner = .mean
        let spec = SyntheticModel.spec(columns: columns, wide: [0], deep: [0, 4], dim: 3, dnn: [4])
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 2),
                                        optimizer: ModelFixtures.adam)
        var batch = EncodedBatch(columnCount: 5)
        for c in 0..<4 { batch.columns[c].append(id: 1); batch.columns[c].endItem() }
        batch.columns[4].append(id: 77, weight: 1)        // becomes known
        batch.columns[4].endItem()
        batch.batchSize = 1
        _ = model.trainStep(batch: batch, labels: [1])
        var mixed = batch
        mixed.columns[4] = EncodedBatch.Column()
        mixed.columns[4].append(id: 77, weight: 1)
        mixed.columns[4].append(id: 78, weight: 3)        // unknown: counts in the mean
        mixed.columns[4].endItem()
        let reference = ReferenceDeepFM(spec: spec, parameters: model.parameters())
        let want = reference.run(batch: mixed, labels: nil, training: false).logits[0]
        let got = model.predictLogits(batch: mixed)[0]
        #expect(abs(Double(got) - want) <= 1e-5 * max(1, abs(want)))
        #expect(model.predictLogits(batch: batch)[0] != got)
        #expect(model.rowCount(embeddingId: try #require(spec.embeddings.last?.id)) == 1)
    }

    @Test("an unknown key-value key predicts as a zero row and is not inserted")
    func unknownKeyIsZero() throws {
        let spec = ModelFixtures.spec()
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 1),
                                        optimizer: ModelFixtures.adam)
        let (batch, _) = ModelFixtures.batch(size: 4, seed: 9)
        let kvTable = try #require(spec.embeddings.first { $0.rows == nil && $0.part == .deep })
        #expect(model.rowCount(embeddingId: kvTable.id) == 0)
        let probs = model.predict(batch: batch)
        #expect(model.rowCount(embeddingId: kvTable.id) == 0)
        var stripped = batch
        stripped.columns[4] = EncodedBatch.Column()
        for _ in 0..<batch.batchSize { stripped.columns[4].endItem() }
        #expect(model.predict(batch: stripped) == probs)
    }
}
