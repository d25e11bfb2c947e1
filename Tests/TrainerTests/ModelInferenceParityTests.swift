import Foundation
import Testing
import FG
import Inference
@testable import Trainer

/// The trainer's inference-mode predictions against the Inference module's forward
/// (`DeepFMPredictor`) on the same parameters: the deepfm.md numerical contract (1e-6 on probs).
@Suite("Model parity with Inference")
struct ModelInferenceParityTests {
    typealias Case = ModelShapeCase
    static let cases = ModelShapeCase.all

    @Test("hand-built test specs name and number variables as ModelSpec.make", arguments: cases)
    func namingAgrees(_ c: Case) throws {
        let mine = ModelFixtures.spec(wideDim: c.wideDim, finalDnn: c.finalDnn, useBN: c.useBN)
        let theirs = try ModelSpec.make(columns: mine.columns, wideFeatures: mine.wideFeatures,
                                        deepFeatures: mine.deepFeatures, wideOutputDim: c.wideDim,
                                        dnnHidden: mine.dnnHidden, finalDnnHidden: c.finalDnn,
                                        dnnUseBN: c.useBN, finalDnnUseBN: c.useBN,
                                        l2Regularization: mine.l2Regularization,
                                        embeddingRegularization: mine.embeddingRegularization)
        #expect(theirs == mine)
    }

    @Test("trained model: trainer predict equals DeepFMPredictor within 1e-6", arguments: cases)
    func smallModels(_ c: Case) throws {
        let spec = ModelFixtures.spec(wideDim: c.wideDim, finalDnn: c.finalDnn, useBN: c.useBN)
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 12),
                                        optimizer: ModelFixtures.adam)
        for s in 0..<5 {
            let (b, l) = ModelFixtures.batch(size: 16, seed: UInt64(100 + s))
            _ = model.trainStep(batch: b, labels: l)
        }
        let predictor = try DeepFMPredictor(spec: spec)
        for s in 0..<3 {
            let (batch, _) = ModelFixtures.batch(size: 16, seed: UInt64(200 + s))   // includes unseen keys
            let theirs = try predictor.predict(batch: batch, parameters: model.parameters())
            let probs = model.predict(batch: batch), logits = model.predictLogits(batch: batch)
            #expect(probs.count == theirs.probs.count)
            for i in probs.indices {
                #expect(abs(probs[i] - theirs.probs[i]) <= 1e-6, "\(c) item \(i): \(probs[i]) vs \(theirs.probs[i])")
                #expect(abs(logits[i] - theirs.logits[i]) <= 1e-5 * max(1, abs(theirs.logits[i])), "\(c) item \(i)")
            }
        }
    }

    @Test("demo-sized model after training: probs within 1e-6 of DeepFMPredictor")
    func demoModel() throws {
        var stream = SyntheticModel.Stream(singleFeatures: 16, cardinality: 1000, keyPool: 2000, seed: 3)
        let columns = stream.columns(dim: 16)
        let all = Array(columns.indices)
        let spec = try ModelSpec.make(columns: columns, wideFeatures: all, deepFeatures: all,
                                      dnnHidden: [128, 64, 32], finalDnnHidden: [64, 32],
                                      l2Regularization: 1e-5, embeddingRegularization: 1e-7)
        let model = try TrainableDeepFM(spec: spec, parameters: TrainableDeepFM.initialParameters(spec: spec, seed: 4),
                                        optimizer: OptimizerSettings(kind: .defaultAdagrad, learningRate: .constant(0.05)),
                                        threads: 2)
        var batch = EncodedBatch(columnCount: columns.count)
        for _ in 0..<10 {
            let labels = stream.next(into: &batch, size: 128)
            _ = model.trainStep(batch: batch, labels: labels)
        }
        let predictor = try DeepFMPredictor(spec: spec)
        _ = stream.next(into: &batch, size: 256)
        let theirs = try predictor.predict(batch: batch, parameters: model.parameters())
        let probs = model.predict(batch: batch)
        var worst: Float = 0
        for i in probs.indices { worst = max(worst, abs(probs[i] - theirs.probs[i])) }
        #expect(probs.count == 256)
        #expect(worst <= 1e-6, "largest |probs difference| \(worst)")
    }
}
