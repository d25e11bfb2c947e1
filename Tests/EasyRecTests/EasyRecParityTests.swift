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
