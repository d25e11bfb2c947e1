import Foundation
import TensorFlowIO
import XCTest

/// Truncated and corrupted `.index` / `.data` files give typed errors naming the file (and the
/// tensor), never a crash.
final class CorruptBundleTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws { dir = try FixturePaths.temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func readAll(_ prefix: String) throws {
        let bundle = try TensorBundle(prefix: prefix)
        for name in bundle.names { _ = try bundle.tensor(name) }
    }

    func testEveryTruncationOfTheIndexIsAnError() throws {
        let prefix = try FixturePaths.copyBundle(FixturePaths.baseVariables, into: dir)
        let original = try Data(contentsOf: URL(fileURLWithPath: prefix + ".index"))
        for length in stride(from: 0, to: original.count, by: 5) {
            try original.prefix(length).write(to: URL(fileURLWithPath: prefix + ".index"))
            XCTAssertThrowsError(try readAll(prefix), "index cut to \(length) bytes") { error in
                guard let e = error as? TensorFlowIOError else { return XCTFail("untyped error \(error)") }
                XCTAssertTrue(e.description.contains(prefix + ".index"), e.description)
            }
        }
    }

    /// A flipped index byte is a typed error, or (in the parts nothing reads: the metaindex
    /// block, the footer's padding) changes nothing: never wrong data.
    func testFlippedIndexBytesAreDetectedOrHarmless() throws {
        let prefix = try FixturePaths.copyBundle(FixturePaths.baseVariables, into: dir)
        let clean = try TensorBundle(prefix: prefix)
        let reference = try clean.names.map { ($0, try clean.tensor($0)) }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: prefix + ".index")))
        var checksumErrors = 0, harmless = 0
        for position in stride(from: 0, to: original.count, by: 3) {
            var bytes = original
            bytes[position] ^= 0x5A
            try Data(bytes).write(to: URL(fileURLWithPath: prefix + ".index"))
            do {
                let bundle = try TensorBundle(prefix: prefix)
                XCTAssertEqual(bundle.names, clean.names, "byte \(position) flipped")
                for (name, want) in reference {
                    let got = try bundle.tensor(name)
                    XCTAssertEqual(got, want, "byte \(position) flipped: \(name) changed")
                }
                harmless += 1
            } catch {
                if case .checksumMismatch = error { checksumErrors += 1 }
            }
        }
        XCTAssertGreaterThan(checksumErrors, original.count / 3 / 2)
        XCTAssertLessThan(harmless, 60)
    }

    func testTruncatedDataFileNamesTheTensor() throws {
        let prefix = try FixturePaths.copyBundle(FixturePaths.baseVariables, into: dir)
        let dataPath = prefix + ".data-00000-of-00001"
        let original = try Data(contentsOf: URL(fileURLWithPath: dataPath))
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: dataPath))
        XCTAssertThrowsError(try readAll(prefix)) { error in
            guard case let .truncated(file, what)? = error as? TensorFlowIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, dataPath)
            XCTAssertTrue(what.contains("tensor '"), what)
        }
        try Data().write(to: URL(fileURLWithPath: dataPath))
        XCTAssertThrowsError(try readAll(prefix))
        try FileManager.default.removeItem(atPath: dataPath)
        XCTAssertThrowsError(try TensorBundle(prefix: prefix)) { error in
            XCTAssertEqual(error as? TensorFlowIOError, .unreadable(file: dataPath, reason: "no such file"))
        }
    }

    func testFlippedDataByteIsAChecksumMismatchNamingTheTensor() throws {
        let prefix = try FixturePaths.copyBundle(FixturePaths.baseVariables, into: dir)
        let dataPath = prefix + ".data-00000-of-00001"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dataPath)))
        bytes[bytes.count / 3] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: dataPath))
        XCTAssertThrowsError(try readAll(prefix)) { error in
            guard case let .checksumMismatch(file, what, stored, computed)? = error as? TensorFlowIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, dataPath)
            XCTAssertTrue(what.hasPrefix("tensor '"), what)
            XCTAssertNotEqual(stored, computed)
        }
    }
}
