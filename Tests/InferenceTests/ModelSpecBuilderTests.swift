import XCTest
import Config
import FG
@testable import Inference

final class ModelSpecBuilderTests: XCTestCase {
    static let configDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/Config").path

    func testOnlineConfig() throws {
        let config = try PipelineConfig.load(path: Self.configDir + "/online_incr_kafka.config")
        let spec = try ModelSpec(config: config)
        XCTAssertEqual(spec.columns.map(\.name), ["user_id", "item_id", "price"])
        XCTAssertEqual(spec.columns[0].kind, .hashed(bucketSize: 100_000))
        XCTAssertEqual(spec.columns[1].kind, .keyValue)
        XCTAssertEqual(spec.columns[2].kind, .boundaries([10, 50, 100]))
        XCTAssertEqual(spec.deepFeatures, [0, 1, 2])
        XCTAssertEqual(spec.wideFeatures, [0, 1])
        XCTAssertEqual(spec.embeddings.map(\.name), ["input_layer/user_id_embedding", "input_layer/item_id_embedding",
                                                     "input_layer_1/user_id_embedding", "input_layer_1/item_id_embedding",
                                                     "input_layer_1/price_embedding"])
        XCTAssertEqual(spec.embeddings.map(\.rows), [100_000, nil, 100_000, nil, 4])
        XCTAssertEqual(spec.denseVariables.first?.shape, [24, 64])
        XCTAssertEqual(spec.denseVariables.last?.name, "deep_logits/bias")
        XCTAssertEqual(spec.denseVariables.count, 2 * 6 + 2)
        XCTAssertEqual(spec.l2Regularization, 1e-5)
    }

    func testAvazuComboConfigWithFinalDNN() throws {
        let config = try PipelineConfig.load(path: Self.configDir + "/deepfm_combo_avazu_kafka.config")
        let spec = try ModelSpec(config: config)
        XCTAssertEqual(spec.wideOutputDim, 16)
        XCTAssertEqual(spec.finalDnnHidden, [128, 64])
        XCTAssertEqual(spec.deepFeatures.count, 23)
        XCTAssertTrue(spec.columns.contains { if case .combo = $0.kind { return true }; return false })
        let f0 = spec.denseVariables.first { $0.name == "final_dnn/dnn_0/kernel" }
        XCTAssertEqual(f0?.shape, [1 + spec.embeddingDim + 32, 128])
        XCTAssertEqual(spec.denseVariables.suffix(2).map(\.name), ["output/kernel", "output/bias"])
        XCTAssertTrue(spec.embeddings.filter { $0.part == .wide }.allSatisfy { $0.dim == 16 })
        // A forward pass over zero parameters is well defined (probs 0.5).
        let predictor = try DeepFMPredictor(spec: spec)
        XCTAssertEqual(predictor.spec, spec)
    }
}
