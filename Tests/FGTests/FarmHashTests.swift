import Foundation
import XCTest
@testable import FG

final class FarmHashTests: XCTestCase {
    static let testdata = "/work/shared/testdata/fingerprint64.tsv"

    func testEveryGoldenRow() throws {
        let text = try String(contentsOfFile: Self.testdata, encoding: .utf8)
        var rows = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("#") {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(cols.count, 4, "row \(line)")
            guard cols.count == 4 else { continue }
            let bytes = try Self.hexBytes(cols[0])
            let expected = try XCTUnwrap(UInt64(cols[1]))
            let got = bytes.withUnsafeBytes { FarmHash.fingerprint64($0) }
            XCTAssertEqual(got, expected, "hex \(cols[0])")
            XCTAssertEqual(got % 100_000, try XCTUnwrap(UInt64(cols[2])), "mod 100000 of \(cols[0])")
            XCTAssertEqual(got % 3, try XCTUnwrap(UInt64(cols[3])), "mod 3 of \(cols[0])")
            rows += 1
        }
        XCTAssertGreaterThan(rows, 900)
    }

    func testNamedExamples() {
        XCTAssertEqual(FarmHash.fingerprint64("Hello"), 15_404_698_994_557_526_151)
        XCTAssertEqual(FarmHash.fingerprint64("user_id_100002") % 100_000, 40708)
    }

    func testFingerprintCat64MatchesDefinition() {
        // Reference: direct transcription of fg.md section 4 with explicit wrapping arithmetic.
        func shiftmix(_ v: UInt64) -> UInt64 { v ^ (v >> 47) }
        func reference(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let m: UInt64 = 0xc6a4a7935bd1e995
            var r = a ^ m
            r ^= shiftmix(b.multipliedReportingOverflow(by: m).partialValue).multipliedReportingOverflow(by: m).partialValue
            r = r.multipliedReportingOverflow(by: m).partialValue
            r = shiftmix(r).multipliedReportingOverflow(by: m).partialValue
            return shiftmix(r)
        }
        let pairs: [(UInt64, UInt64)] = [(0, 0), (FarmHash.crossSeed, FarmHash.fingerprint64("a")),
                                         (UInt64.max, 12345), (1 << 63, UInt64.max)]
        for (a, b) in pairs { XCTAssertEqual(FarmHash.fingerprintCat64(a, b), reference(a, b)) }
        XCTAssertNotEqual(FarmHash.fingerprintCat64(1, 2), FarmHash.fingerprintCat64(2, 1))
    }

    static func hexBytes(_ hex: Substring) throws -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let hi = it.next() {
            guard let lo = it.next(), let h = hexDigit(hi), let l = hexDigit(lo) else {
                throw NSError(domain: "hex", code: 1)
            }
            out.append(h << 4 | l)
        }
        return out
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}
