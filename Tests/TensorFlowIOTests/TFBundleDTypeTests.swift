import Foundation
import TensorFlowIO
import XCTest

/// Every dtype, a partitioned variable (3 slices) and a 2-shard bundle, written by real
/// TensorFlow (Tests/Fixtures/easyrec/tfbundle), against what TensorFlow itself reads back.
final class TFBundleDTypeTests: XCTestCase {
    private func expected() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.root + "/tfbundle/expected.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    private func check(prefix: String) throws {
        let bundle = try TensorBundle(prefix: prefix)
        let want = try expected()
        XCTAssertEqual(Set(bundle.names), Set(want.keys), prefix)
        for (name, entry) in want {
            let tensor = try bundle.tensor(name)
            XCTAssertEqual(tensor.shape, entry["shape"] as? [Int], name)
            let values = entry["values"] as? [Any] ?? []
            switch tensor.values {
            case .float(let v): XCTAssertEqual(v.map(Double.init), values.compactMap { ($0 as? NSNumber)?.doubleValue }, name)
            case .double(let v): XCTAssertEqual(v, values.compactMap { ($0 as? NSNumber)?.doubleValue }, name)
            case .int32(let v): XCTAssertEqual(v.map(Int64.init), values.compactMap { ($0 as? NSNumber)?.int64Value }, name)
            case .int64(let v): XCTAssertEqual(v, values.compactMap { ($0 as? NSNumber)?.int64Value }, name)
            case .bool(let v): XCTAssertEqual(v, values.compactMap { ($0 as? NSNumber)?.boolValue }, name)
            case .string(let v):
                XCTAssertEqual(v, values.compactMap { ($0 as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } }, name)
            }
            XCTAssertEqual(tensor.dtypeName, (entry["dtype"] as? String).map { $0.replacingOccurrences(of: "float32", with: "float").replacingOccurrences(of: "float64", with: "double") }, name)
        }
    }

    func testSingleShardBundleWithPartitionedVariable() throws {
        try check(prefix: FixturePaths.root + "/tfbundle/mixed")
    }

    func testTwoShardBundle() throws {
        let bundle = try TensorBundle(prefix: FixturePaths.root + "/tfbundle/sharded")
        XCTAssertEqual(bundle.shardCount, 2)
        try check(prefix: FixturePaths.root + "/tfbundle/sharded")
    }

    func testCorruptStringLengthsAreDetected() throws {
        let dir = try FixturePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prefix = try FixturePaths.copyBundle(FixturePaths.root + "/tfbundle/mixed", into: dir)
        let path = prefix + ".data-00000-of-00001"
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Flip every byte in turn: reading "names" (or any tensor) must fail or read unchanged values.
        let clean = try TensorBundle(prefix: prefix)
        let names = clean.names
        let reference = try names.map { try clean.tensor($0) }
        for position in original.indices {
            var bytes = original
            bytes[position] ^= 0x20
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let bundle = try TensorBundle(prefix: prefix)
            var failed = false
            for (name, want) in zip(names, reference) {
                do {
                    let got = try bundle.tensor(name)
                    XCTAssertEqual(got, want, "byte \(position) flipped, \(name) read wrong values")
                } catch {
                    XCTAssertFalse(error.description.isEmpty)
                    failed = true
                }
            }
            XCTAssertTrue(failed, "byte \(position) flipped went unnoticed")
        }
    }
}
