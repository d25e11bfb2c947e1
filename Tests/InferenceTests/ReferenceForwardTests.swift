@testable import Export
import XCTest
import FG
@testable import Inference

/// The forward pass against the independent NumPy reference (scripts/deepfm_reference.py).
final class ReferenceForwardTests: XCTestCase {
    func check(_ name: String, mapped: Bool) throws {
        let c = try Fixture.load(name)
        // Names and ids derived by ModelSpec.make match those the script derived independently.
        let manifest = try ExportReader.readManifest(c.dir)
        XCTAssertNoThrow(try ExportReader.validate(manifest, spec: c.spec))
        let store = try ExportReader.loadStore(c.dir, spec: c.spec, mapTables: mapped)
        if mapped { XCTAssertTrue(store.isMemoryMapped(embeddingId: 0)) }
        let predictor = try DeepFMPredictor(spec: c.spec)
        var scratch = PredictScratch()
        var logits: [Float] = [], probs: [Float] = []
        try predictor.predict(batch: c.batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
        XCTAssertEqual(probs.count, c.probs.count)
        for i in probs.indices {
            XCTAssertEqual(Double(probs[i]), c.probs[i], accuracy: 1e-6, "\(name) item \(i) probs")
            XCTAssertEqual(Double(logits[i]), c.logits[i], accuracy: 2e-5 * max(1, abs(c.logits[i])), "\(name) item \(i) logits")
        }
        // Same result through the ModelParameters convenience (trainer/tests path).
        let params = store.snapshotParameters()
        let r = try predictor.predict(batch: c.batch, parameters: params)
        XCTAssertEqual(r.probs, probs)
        // Reusing the scratch gives identical results (no state leaks between calls).
        var probs2: [Float] = []
        try predictor.predict(batch: c.batch, store: store, scratch: &scratch, logits: &logits, probs: &probs2)
        XCTAssertEqual(probs2, probs)
    }

    func testWithFinalDNNMapped() throws { try check("deepfm_final", mapped: true) }
    func testWithFinalDNNCopied() throws { try check("deepfm_final", mapped: false) }
    func testWithoutFinalDNN() throws { try check("deepfm_nofinal", mapped: true) }

    func testSpecNamingAndShapes() throws {
        let c = try Fixture.load("deepfm_final")
        let names = c.spec.denseVariables.map(\.name)
        XCTAssertEqual(names.first, "deep_feature/dnn_0/kernel")
        XCTAssertEqual(c.spec.denseVariables[0].shape, [7 * 4, 16])
        XCTAssertTrue(names.contains("deep_feature/dnn_1/bn/moving_variance"))
        XCTAssertEqual(c.spec.denseVariables.first { $0.name == "final_dnn/dnn_0/kernel" }?.shape, [1 + 4 + 8, 8])
        XCTAssertEqual(names.suffix(2), ["output/kernel", "output/bias"])
        // Shared embedding_name (2 users) -> one table per part; single-use embedding_name ignored.
        XCTAssertNotNil(c.spec.embeddingId(named: "input_layer_1/cat_shared"))
        XCTAssertNotNil(c.spec.embeddingId(named: "input_layer/cat_shared_wide"))
        XCTAssertNotNil(c.spec.embeddingId(named: "input_layer_1/score_embedding"))
        XCTAssertEqual(c.spec.tableId(column: 4, part: .deep), c.spec.tableId(column: 5, part: .deep))
        XCTAssertNil(c.spec.tableId(column: 2, part: .wide))
        let n = try Fixture.load("deepfm_nofinal")
        XCTAssertEqual(n.spec.denseVariables.map(\.name).suffix(2), ["deep_logits/kernel", "deep_logits/bias"])
        XCTAssertFalse(n.spec.denseVariables.contains { $0.name.contains("/bn/") })
    }

    func testSpecErrors() {
        let a = FeatureColumnSpec(name: "a", inputNames: ["a"], kind: .hashed(bucketSize: 10), embeddingDim: 4)
        let b = FeatureColumnSpec(name: "b", inputNames: ["b"], kind: .hashed(bucketSize: 10), embeddingDim: 8)
        XCTAssertThrowsError(try ModelSpec.make(columns: [a, b], wideFeatures: [], deepFeatures: [0, 1], dnnHidden: [4], finalDnnHidden: nil)) {
            XCTAssertEqual($0 as? ModelSpecError, .unequalEmbeddingDims(feature: "b", dim: 8, expected: 4))
        }
        XCTAssertThrowsError(try ModelSpec.make(columns: [a], wideFeatures: [0], deepFeatures: [0], wideOutputDim: 4, dnnHidden: [4], finalDnnHidden: nil)) {
            XCTAssertEqual($0 as? ModelSpecError, .wideOutputDimWithoutFinalDNN(4))
        }
        XCTAssertThrowsError(try ModelSpec.make(columns: [a], wideFeatures: [3], deepFeatures: [0], dnnHidden: [4], finalDnnHidden: nil))
        XCTAssertThrowsError(try ModelSpec.make(columns: [a], wideFeatures: [], deepFeatures: [], dnnHidden: [4], finalDnnHidden: nil))
    }

    func testBadBatchIsRejected() throws {
        let c = try Fixture.load("deepfm_final")
        let store = try ExportReader.loadStore(c.dir, spec: c.spec)
        let p = try DeepFMPredictor(spec: c.spec)
        var scratch = PredictScratch()
        var l: [Float] = [], pr: [Float] = []
        var bad = c.batch
        bad.columns[0].ids[0] = 40   // user_id has 40 rows
        XCTAssertThrowsError(try p.predict(batch: bad, store: store, scratch: &scratch, logits: &l, probs: &pr)) {
            XCTAssertEqual($0 as? PredictError, .idOutOfRange(feature: "user_id", id: 40, rows: 40))
        }
        bad = c.batch
        bad.columns[2].offsets[3] = 1000
        XCTAssertThrowsError(try p.predict(batch: bad, store: store, scratch: &scratch, logits: &l, probs: &pr))
        bad = c.batch
        bad.columns.removeLast()
        XCTAssertThrowsError(try p.predict(batch: bad, store: store, scratch: &scratch, logits: &l, probs: &pr))
        // A store of another model is refused.
        let n = try Fixture.load("deepfm_nofinal")
        let otherStore = try ExportReader.loadStore(n.dir, spec: n.spec)
        XCTAssertThrowsError(try p.predict(batch: c.batch, store: otherStore, scratch: &scratch, logits: &l, probs: &pr)) {
            XCTAssertEqual($0 as? PredictError, .specMismatch)
        }
        // Empty batch gives empty outputs.
        var empty = EncodedBatch(columnCount: c.spec.columns.count)
        empty.batchSize = 0
        try p.predict(batch: empty, store: store, scratch: &scratch, logits: &l, probs: &pr)
        XCTAssertEqual(pr, [])
    }
}
