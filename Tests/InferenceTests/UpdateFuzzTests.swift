@testable import UpdateFuzz
import XCTest
@testable import Inference

final class UpdateFuzzTests: XCTestCase {
    /// Debug builds run 20k messages here (a few seconds; ODL_FUZZ_MESSAGES overrides); `odl inspect --bench` runs 1M in release.
    func testRandomAndMutatedMessages() {
        let count = Int(ProcessInfo.processInfo.environment["ODL_FUZZ_MESSAGES"] ?? "") ?? 20_000
        let report = UpdateFuzzer.run(count: count, seed: 42)
        XCTAssertEqual(report.violations, [])
        XCTAssertEqual(report.messages, count)
        // Both outcomes must be well represented, and rejections of many kinds.
        XCTAssertGreaterThan(report.accepted, count / 20)
        XCTAssertGreaterThan(report.rejected, count / 4)
        XCTAssertGreaterThan(report.storeLevelRejections, 50)
        for reason in ["truncated_header", "trailing_bytes", "bad_kind", "bad_count", "unknown_var_id", "unknown_embed_id",
                       "key_out_of_range", "non_finite", "key_width_mismatch", "num_elements_mismatch"] {
            XCTAssertGreaterThan(report.rejectedByReason[reason] ?? 0, 0, reason)
        }
        print("fuzz: \(report.messages) messages, \(report.accepted) accepted, \(report.rejected) rejected \(report.rejectedByReason), store-level rejections \(report.storeLevelRejections)")
    }
}
