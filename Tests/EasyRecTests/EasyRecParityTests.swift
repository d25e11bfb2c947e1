import EasyRec
import Foundation
import Inference
@testable import Processor
import XCTest

/// odl serving a real EasyRec export scores like TensorFlow (within 1e-5), before and after
/// applying the fixture's update files.
final class EasyRecParityTests: XCTestCase {
    func testBaseExportMatchesTensorFlow() throws {
        let parity = try TFParity()
        let model = try LoadedModel.load(path: EasyRecFixture.baseExport, embeddingDir: nil, limits: ServeLimits())
        let odl = try parity.odlProbs(try TFParity.scorer(model))
        let tf = try XCTUnwrap(parity.tfProbs("base_export"))
        let diff = TFParity.maxDiff(odl, tf)
        print("easyrec parity: base_export max |odl - tf| probs = \(diff)")
        XCTAssertLessThan(diff, 1e-5)
    }

    func testFinalExportMatchesTensorFlow() throws {
        let parity = try TFParity()
        let model = try LoadedModel.load(path: EasyRecFixture.finalExport, embeddingDir: nil, limits: ServeLimits())
        let odl = try parity.odlProbs(try TFParity.scorer(model))
        let tf = try XCTUnwrap(parity.tfProbs("final_export"))
        let diff = TFParity.maxDiff(odl, tf)
        print("easyrec parity: final_export max |odl - tf| probs = \(diff)")
        XCTAssertLessThan(diff, 1e-5)
    }
}

/// EasyRec's update messages (fs mode files of the fixture) applied in step order to the
/// base export reach TensorFlow's predictions at each checkpoint step and on the final export.
final class EasyRecUpdateTests: XCTestCase {
    func testFSModeUpdatesReachTheFinalExport() throws {
        let parity = try TFParity()
        let model = try LoadedModel.load(path: EasyRecFixture.baseExport, embeddingDir: nil, limits: ServeLimits())
        let scorer = try TFParity.scorer(model)
        let names = try FileManager.default.contentsOfDirectory(atPath: EasyRecFixture.updates)
        let steps = Set(names.compactMap { n -> Int? in
            guard n.hasSuffix(".done") else { return nil }
            return Int(n.dropLast(5).split(separator: "_").last ?? "")
        }).sorted()
        XCTAssertFalse(steps.isEmpty)
        for step in steps {
            // Sparse first, then dense, each only once its .done marker exists (formats.md 1.5).
            for kind in ["sparse", "dense"] {
                let path = EasyRecFixture.updates + "/\(kind)_update_\(step)"
                guard FileManager.default.fileExists(atPath: path + ".done") else { continue }
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                let message = try UpdateCodec.decode(bytes, spec: model.store.spec)
                let counts = try model.store.apply(message)
                XCTAssertGreaterThan(counts.rowsUpdated + counts.variables, 0, path)
            }
            if let tf = parity.tfProbs("checkpoint_steps/\(step)") {
                let diff = TFParity.maxDiff(try parity.odlProbs(scorer), tf)
                print("easyrec parity: after updates of step \(step) max |odl - tf| probs = \(diff)")
                XCTAssertLessThan(diff, 1e-5, "step \(step)")
            }
        }
        let diff = TFParity.maxDiff(try parity.odlProbs(scorer), try XCTUnwrap(parity.tfProbs("final_export")))
        print("easyrec parity: base + updates vs final_export max |odl - tf| probs = \(diff)")
        XCTAssertLessThan(diff, 1e-5)
    }
}
