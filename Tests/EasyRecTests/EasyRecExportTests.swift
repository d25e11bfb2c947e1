import EasyRec
import Foundation
import Inference
import XCTest

/// Reading the real EasyRec DeepFM export as odl's model: every variable placed, ids derived.
final class EasyRecExportTests: XCTestCase {
    func testEveryVariableIsPlaced() throws {
        let export = try EasyRecExport(directory: EasyRecFixture.baseExport)
        XCTAssertEqual(export.spec.embeddings.count, 10)
        XCTAssertEqual(export.mapping.count, export.spec.embeddings.count + export.spec.denseVariables.count)
        let byName = Dictionary(uniqueKeysWithValues: export.mapping.map { ($0.easyRecName, $0) })
        XCTAssertEqual(byName["input_layer/user_id_embedding/embedding_weights"]?.role, .wideTable)
        XCTAssertEqual(byName["input_layer/user_id_embedding/embedding_weights"]?.shape, [500, 4])
        XCTAssertEqual(byName["input_layer_1/price_bucketized_embedding/embedding_weights"]?.odlName, "input_layer_1/price_embedding")
        XCTAssertEqual(byName["input_layer_1/age_weighted_by_age_raw_proj_val_embedding/embedding_weights"]?.role, .deepTable)
        XCTAssertEqual(byName["final_dnn/dnn_1/bn/moving_mean"]?.role, .dense)
        XCTAssertEqual(export.globalStep, 200)
    }

    /// EasyRec's online export order: tables in variable creation order (wide group first, each
    /// group's columns sorted by name), BN moving statistics before the trainable dense variables.
    func testDerivedIdsFollowEasyRecOrder() throws {
        let export = try EasyRecExport(directory: EasyRecFixture.baseExport)
        XCTAssertTrue(export.idsSource.hasPrefix("derived"), export.idsSource)
        let tables = export.spec.embeddings.map { EasyRecNaming.tableName(spec: export.spec, embedding: $0) }
        XCTAssertEqual(tables, [
            "input_layer/age_weighted_by_age_raw_proj_val_embedding", "input_layer/category_embedding",
            "input_layer/item_id_embedding", "input_layer/price_bucketized_embedding", "input_layer/user_id_embedding",
            "input_layer_1/age_weighted_by_age_raw_proj_val_embedding", "input_layer_1/category_embedding",
            "input_layer_1/item_id_embedding", "input_layer_1/price_bucketized_embedding", "input_layer_1/user_id_embedding",
        ])
        let dense = export.spec.denseVariables.map(\.name)
        XCTAssertEqual(Array(dense.prefix(2)), ["deep_feature/dnn_0/bn/moving_mean", "deep_feature/dnn_0/bn/moving_variance"])
        XCTAssertEqual(dense[8], "deep_feature/dnn_0/kernel")
        XCTAssertEqual(dense.last, "output/bias")
        let expectedDense = EasyRecFixture.root + "/expected_DENSE_UPDATE_VARIABLES"
        if let data = FileManager.default.contents(atPath: expectedDense),
           let object = try JSONSerialization.jsonObject(with: data) as? [String: Int] {
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: export.spec.denseVariables.map { ($0.name, $0.id) }), object)
        }
    }

    func testNonDeepFMIsAClearError() throws {
        let dir = try EasyRecFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: EasyRecFixture.baseExport, toPath: dir + "/export")
        let configPath = dir + "/export/assets/pipeline.config"
        let text = try String(contentsOfFile: configPath, encoding: .utf8)
        try text.replacingOccurrences(of: "model_class: \"DeepFM\"", with: "model_class: \"MultiTower\"")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try EasyRecExport(directory: dir + "/export")) { error in
            XCTAssertTrue("\(error)".contains("MultiTower"), "\(error)")
        }
    }
}
