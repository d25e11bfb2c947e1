import Foundation
import Testing
import FG
import Inference
@testable import Trainer

@Suite("Model training")
struct ModelTrainingTests {
    @Test("streaming AUC on a synthetic logistic stream rises above 0.7 within a few thousand samples")
    func learnsSyntheticStream() throws {
        // Best possible AUC on this stream (true probabilities) is about 0.90.
        var stream = SyntheticModel.Stream(singleFeatures: 4, cardinality: 40, keyPool: 100, signal: 1.2, seed: 21)
        let columns = stream.columns(dim: 8)
        let all = Array(columns.indices)
        let spec = SyntheticModel.spec(columns: columns, wide: all, deep: all, dim: 8, dnn: [32, 16],
                                       l2: 1e-5, embeddingRegularization: 1e-7)
        let model = try TrainableDeepFM(spec: spec, parameters: TrainableDeepFM.initialParameters(spec: spec, seed: 2),
                                        optimizer: OptimizerSettings(kind: .defaultAdam, learningRate: .constant(0.03)))
        var batch = EncodedBatch(columnCount: columns.count)
        var truth = StreamingAUC()
        var early = StreamingAUC(), late = StreamingAUC()
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<60 {                                    // 3840 samples
            let labels = stream.next(into: &batch, size: 64)
            let r = model.trainStep(batch: batch, labels: labels)   // probs before the update: progressive validation
            #expect(r.loss.isFinite)
            if step < 5 { early.update(probs: r.probs, labels: labels); firstLoss += r.loss }
            if step >= 40 { late.update(probs: r.probs, labels: labels); truth.update(probs: stream.lastProbabilities, labels: labels) }
            if step >= 55 { lastLoss += r.loss }
        }
        #expect(late.value > 0.7, "late AUC \(late.value), early \(early.value), best possible \(truth.value)")
        #expect(late.value <= truth.value + 0.02)
        #expect(late.value > early.value + 0.1)
        #expect(lastLoss < firstLoss)
        // Held-out data from the same stream, inference mode.
        var holdout = StreamingAUC()
        for _ in 0..<8 {
            let labels = stream.next(into: &batch, size: 128)
            holdout.update(probs: model.predict(batch: batch), labels: labels)
        }
        #expect(holdout.value > 0.7, "holdout AUC \(holdout.value)")
    }

    @Test("only rows of the batch change; drainTouchedRows reports exactly them, then nothing")
    func untouchedRowsNeverChange() throws {
        let spec = ModelFixtures.spec(finalDnn: [4])
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 6),
                                        optimizer: OptimizerSettings(kind: .defaultMomentum, learningRate: .constant(0.1)))
        let (batch, labels) = ModelFixtures.batch(size: 3, seed: 17)
        let before = model.parameters()
        _ = model.trainStep(batch: batch, labels: labels)
        let after = model.parameters()
        let touched = model.drainTouchedRows()
        var changedAny = 0
        for e in spec.embeddings {
            let col = batch.columns[e.column]
            let ids = Set(col.ids)
            let expected = e.rows.map { rows in ids.filter { $0 >= 0 && $0 < Int64(rows) } } ?? ids
            #expect(Set(touched[e.id] ?? []) == expected, "\(e.name)")
            #expect((touched[e.id] ?? []) == (touched[e.id] ?? []).sorted())
            let (k0, v0) = ModelOptimizerTests.rows(before.tables[e.id])
            let (k1, v1) = ModelOptimizerTests.rows(after.tables[e.id])
            for (r, key) in k1.enumerated() {
                let new = Array(v1[(r * e.dim)..<((r + 1) * e.dim)])
                guard let r0 = k0.firstIndex(of: key) else {
                    #expect(expected.contains(key), "\(e.name): row \(key) appeared without being in the batch")
                    continue
                }
                let old = Array(v0[(r0 * e.dim)..<((r0 + 1) * e.dim)])
                if expected.contains(key) {
                    if new != old { changedAny += 1 }
                } else {
                    #expect(new.map(\.bitPattern) == old.map(\.bitPattern), "\(e.name): untouched row \(key) changed")
                }
            }
            #expect(model.rowValues(embeddingId: e.id, keys: Array(expected)).count == expected.count * e.dim)
        }
        #expect(changedAny > 10)
        #expect(model.drainTouchedRows().isEmpty)
        // rowValues reads the current rows (fixed: by id; key-value: by key; unknown: zeros).
        let kv = try #require(spec.embeddings.first { $0.rows == nil })
        let key = try #require(touched[kv.id]?.first)
        let (keys, values) = ModelOptimizerTests.rows(after.tables[kv.id])
        let r = try #require(keys.firstIndex(of: key))
        #expect(model.rowValues(embeddingId: kv.id, keys: [key, 123_456_789]) ==
                Array(values[(r * kv.dim)..<((r + 1) * kv.dim)]) + [Float](repeating: 0, count: kv.dim))
    }

    @Test("the same data twice gives bit-identical parameters and optimizer state, on 1 or 2 threads")
    func determinism() throws {
        func run(threads: Int = 1) throws -> (ModelParameters, [String: [Float]], [Float]) {
            var stream = SyntheticModel.Stream(singleFeatures: 4, cardinality: 30, keyPool: 100, seed: 5)
            let columns = stream.columns(dim: 4)
            let all = Array(columns.indices)
            let spec = SyntheticModel.spec(columns: columns, wide: all, deep: all, dim: 4, dnn: [8, 4], finalDnn: [4],
                                           l2: 1e-4, embeddingRegularization: 1e-4)
            let model = try TrainableDeepFM(spec: spec, parameters: TrainableDeepFM.initialParameters(spec: spec, seed: 3),
                                            optimizer: OptimizerSettings(kind: .defaultAdam, learningRate: .constant(0.01)),
                                            seed: 77, threads: threads)
            #expect(model.threads == threads)
            model.parallelThreshold = 0                     // split every layer and every update
            var batch = EncodedBatch(columnCount: columns.count)
            var probs: [Float] = []
            for _ in 0..<20 {
                let labels = stream.next(into: &batch, size: 256)
                probs += model.trainStep(batch: batch, labels: labels).probs
            }
            return (model.parameters(), model.optimizerState().mapValues(\.values), probs)
        }
        let a = try run(), b = try run(), c = try run(threads: 2)
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.2.map(\.bitPattern) == b.2.map(\.bitPattern))
        #expect(a.0 == c.0)
        #expect(a.1 == c.1)
        #expect(a.2.map(\.bitPattern) == c.2.map(\.bitPattern))
    }

    @Test("a key-value row's initial value depends only on seed, table and key")
    func keyRowInitIsReproducible() throws {
        let spec = ModelFixtures.spec()
        let kv = try #require(spec.embeddings.first { $0.rows == nil && $0.part == .deep })
        let params = ModelFixtures.parameters(spec: spec, seed: 1)
        let a = try TrainableDeepFM(spec: spec, parameters: params, optimizer: ModelFixtures.adam, seed: 42)
        let b = try TrainableDeepFM(spec: spec, parameters: params, optimizer: ModelFixtures.adam, seed: 42)
        let c = try TrainableDeepFM(spec: spec, parameters: params, optimizer: ModelFixtures.adam, seed: 43)
        let (x, lx) = ModelFixtures.batch(size: 6, seed: 1)
        let (y, ly) = ModelFixtures.batch(size: 6, seed: 2)
        _ = a.gradients(batch: x, labels: lx)          // inserts x's keys, then y's
        _ = a.gradients(batch: y, labels: ly)
        _ = b.gradients(batch: y, labels: ly)          // only y's keys, in another order
        _ = c.gradients(batch: y, labels: ly)
        let keys = Array(Set(y.columns[kv.column].ids))
        let rowsA = a.rowValues(embeddingId: kv.id, keys: keys)
        #expect(rowsA == b.rowValues(embeddingId: kv.id, keys: keys))
        #expect(rowsA != c.rowValues(embeddingId: kv.id, keys: keys))
        #expect(rowsA.allSatisfy { $0 != 0 && abs($0) < 2 / Float(kv.dim).squareRoot() })
    }

    @Test("an invalid batch is refused with a reason and changes nothing")
    func invalidBatch() throws {
        let spec = ModelFixtures.spec()
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 1),
                                        optimizer: ModelFixtures.adam)
        var (batch, labels) = ModelFixtures.batch(size: 4, seed: 3)
        let before = model.parameters()
        let r = model.trainStep(batch: batch, labels: Array(labels.dropLast()))
        #expect(r.loss.isNaN && r.probs.isEmpty)
        #expect(throws: TrainerModelError.invalidBatch("3 labels for 4 items")) {
            try model.trainStepChecked(batch: batch, labels: Array(labels.dropLast()))
        }
        batch.columns[1].offsets[2] = 1_000
        #expect(throws: TrainerModelError.self) { try model.trainStepChecked(batch: batch, labels: labels) }
        #expect(model.predict(batch: batch).isEmpty)
        do {
            try model.validate(batch: batch, labels: labels)
            Issue.record("validate accepted broken offsets")
        } catch {
            #expect("\(error)".contains("tags"))
        }
        var nanLabels = labels
        nanLabels[2] = .nan
        #expect(throws: TrainerModelError.invalidBatch("label of item 2 is nan")) {
            try model.trainStepChecked(batch: batch, labels: nanLabels)
        }
        var infWeight = ModelFixtures.batch(size: 4, seed: 3).0
        infWeight.columns[3].weights[1] = .infinity
        #expect(throws: TrainerModelError.invalidBatch("column 'price' has weight inf at entry 1")) {
            try model.validate(batch: infWeight, labels: nil)
        }
        let empty = EncodedBatch(columnCount: 5)
        let none = model.trainStep(batch: empty, labels: [])
        #expect(none.loss == 0 && none.probs.isEmpty)
        #expect(model.predict(batch: empty).isEmpty)
        batch.columns.removeLast()
        #expect(throws: TrainerModelError.invalidBatch("4 columns, model has 5")) { try model.validate(batch: batch, labels: nil) }
        #expect(model.parameters() == before)
        #expect(model.globalStep == 0)
    }

    @Test("spec and parameter mismatches are errors naming the variable")
    func specErrors() throws {
        var spec = ModelFixtures.spec()
        let params = ModelFixtures.parameters(spec: spec, seed: 1)
        var bad = params
        bad.dense[0].removeLast()
        #expect(throws: TrainerModelError.parameterMismatch(name: "deep_feature/dnn_0/kernel", detail: "74 values, shape [15, 5]")) {
            _ = try TrainableDeepFM(spec: spec, parameters: bad, optimizer: ModelFixtures.adam)
        }
        spec.denseVariables.removeLast(2)
        #expect(throws: TrainerModelError.missingDenseVariable(name: "deep_logits/kernel")) {
            _ = try TrainableDeepFM(spec: spec, parameters: params, optimizer: ModelFixtures.adam)
        }
        var wrongDim = ModelFixtures.spec()
        wrongDim.embeddingDim = 4
        #expect(throws: TrainerModelError.self) {
            _ = try TrainableDeepFM(spec: wrongDim, parameters: params, optimizer: ModelFixtures.adam)
        }
    }

    @Test("initial parameters are deterministic and EasyRec-like")
    func initialParameters() {
        let spec = ModelFixtures.spec(finalDnn: [3])
        let a = TrainableDeepFM.initialParameters(spec: spec, seed: 11)
        #expect(a == TrainableDeepFM.initialParameters(spec: spec, seed: 11))
        #expect(a != TrainableDeepFM.initialParameters(spec: spec, seed: 12))
        for v in spec.denseVariables {
            let values = a.dense[v.id]
            let leaf = v.name.split(separator: "/").last ?? ""
            switch leaf {
            case "kernel":
                let limit = (6 / Float(v.shape[0] + v.shape[1])).squareRoot()
                #expect(values.allSatisfy { abs($0) <= limit } && Set(values).count > values.count / 2, "\(v.name)")
            case "gamma", "moving_variance": #expect(values.allSatisfy { $0 == 1 }, "\(v.name)")
            default: #expect(values.allSatisfy { $0 == 0 }, "\(v.name)")
            }
        }
        for e in spec.embeddings {
            switch a.tables[e.id] {
            case .fixed(let rows, let dim, let values):
                #expect(rows == e.rows && dim == e.dim)
                let std = 1 / Float(dim).squareRoot()
                #expect(values.allSatisfy { abs($0) < 2 * std } && values.contains { $0 != 0 })
            case .keyValue(_, let keys, _):
                #expect(e.rows == nil && keys.isEmpty)
            }
        }
    }
}
