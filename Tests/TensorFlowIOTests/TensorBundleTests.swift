import Foundation
import TensorFlowIO
import XCTest

/// The TensorBundle reader on the real checkpoints EasyRec (TensorFlow 2.15) wrote.
final class TensorBundleTests: XCTestCase {
    func testReadsTheExportVariables() throws {
        let bundle = try TensorBundle(prefix: FixturePaths.baseVariables)
        XCTAssertEqual(bundle.shardCount, 1)
        XCTAssertTrue(bundle.names.contains("input_layer_1/user_id_embedding/embedding_weights"))
        XCTAssertTrue(bundle.names.contains("final_dnn/dnn_1/bn/moving_variance"))
        let table = try bundle.floats("input_layer/user_id_embedding/embedding_weights")
        XCTAssertEqual(table.shape, [500, 4])
        XCTAssertEqual(table.values.count, 2000)
        let kernel = try bundle.floats("deep_feature/dnn_0/kernel")
        XCTAssertEqual(kernel.shape, [40, 32])
        guard case let .int64(step) = try bundle.tensor("global_step").values else { return XCTFail("global_step is not int64") }
        XCTAssertEqual(try bundle.tensor("global_step").shape, [])
        XCTAssertEqual(step.count, 1)
        // Moving variances are positive, every value finite.
        XCTAssertTrue(try bundle.floats("deep_feature/dnn_0/bn/moving_variance").values.allSatisfy { $0 > 0 })
        for name in bundle.names where name != "global_step" {
            XCTAssertTrue(try bundle.floats(name).values.allSatisfy(\.isFinite), name)
        }
    }

    /// The export and the training checkpoint of the same step hold the same model values, and
    /// the checkpoint also holds the Adam slots and beta powers.
    func testCheckpointMatchesExportOfTheSameStep() throws {
        let export = try TensorBundle(prefix: FixturePaths.baseVariables)
        let checkpoint = try TensorBundle(prefix: FixturePaths.checkpoint200)
        for name in export.names {
            XCTAssertEqual(try export.tensor(name), try checkpoint.tensor(name), name)
        }
        XCTAssertEqual(try checkpoint.floats("output/bias/Adam").shape, [1])
        XCTAssertEqual(try checkpoint.floats("input_layer_1/item_id_embedding/embedding_weights/Adam_1").shape, [1000, 8])
        let beta1 = try checkpoint.floats("beta1_power")
        XCTAssertEqual(beta1.shape, [])
        // beta1_power starts at 0.9 and is multiplied by 0.9 at each step: 0.9^(step+1).
        if case let .int64(step) = try checkpoint.tensor("global_step").values, let s = step.first {
            let expected = pow(0.9, Double(s + 1))
            XCTAssertEqual(Double(beta1.values[0]), expected, accuracy: 1e-5 * expected)
        }
    }

    func testErrorsNameTheProblem() throws {
        let bundle = try TensorBundle(prefix: FixturePaths.baseVariables)
        XCTAssertThrowsError(try bundle.tensor("no/such/variable")) { error in
            XCTAssertEqual(error as? TensorFlowIOError, .missingTensor(bundle: FixturePaths.baseVariables, name: "no/such/variable"))
        }
        XCTAssertThrowsError(try bundle.floats("global_step")) { error in
            XCTAssertTrue("\(error)".contains("global_step") && "\(error)".contains("int64"), "\(error)")
        }
        XCTAssertThrowsError(try TensorBundle(prefix: "/nonexistent/model.ckpt-1")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.ckpt-1.index"), "\(error)")
        }
    }
}
