import TensorFlowIO
import XCTest

/// The serving signature and graph facts of the real EasyRec export.
final class SavedModelSignatureTests: XCTestCase {
    func testServingSignatureOfTheEasyRecExport() throws {
        let signature = try SavedModelSignature(directory: FixturePaths.baseExport)
        XCTAssertEqual(signature.tags, ["serve"])
        var inputs: [String: String] = [:]
        for i in signature.inputs { inputs[i.key] = i.dtype }
        XCTAssertEqual(inputs, ["user_id": "string", "item_id": "string", "category": "string", "price": "double", "age": "double"])
        XCTAssertEqual(Set(signature.outputs.map(\.key)).isSuperset(of: ["logits", "probs"]), true)
        XCTAssertEqual(Set(signature.hashBuckets.values), [500, 1000])
        XCTAssertEqual(signature.variables.first, "global_step")
        XCTAssertTrue(signature.variables.contains("output/bias"))
        XCTAssertGreaterThan(signature.opCounts["StringToHashBucketFast"] ?? 0, 0)
    }

    func testMissingOrCorruptSavedModelIsAnError() throws {
        XCTAssertThrowsError(try SavedModelSignature(directory: "/nonexistent")) { error in
            XCTAssertEqual(error as? TensorFlowIOError, .unreadable(file: "/nonexistent/saved_model.pb", reason: "no such file"))
        }
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data([0x0A, 0xFF, 0xFF, 0x01]).write(to: URL(fileURLWithPath: dir + "/saved_model.pb"))
        XCTAssertThrowsError(try SavedModelSignature(directory: dir)) { error in
            guard case .corrupt(let file, _)? = error as? TensorFlowIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, dir + "/saved_model.pb")
        }
    }
}
