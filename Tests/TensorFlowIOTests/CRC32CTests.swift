import TensorFlowIO
import XCTest

final class CRC32CTests: XCTestCase {
    /// The standard check value of CRC-32C and LevelDB's crc32c_test vectors.
    func testKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
    }

    func testContinuingEqualsWhole() {
        let bytes = Array("hello, tensor bundle".utf8)
        let first = bytes[..<7].withUnsafeBytes { CRC32C.checksum($0) }
        let whole = bytes[7...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
        XCTAssertEqual(whole, CRC32C.checksum(bytes))
    }

    /// LevelDB's crc32c::Mask: rotate right by 15 and add a constant; Unmask inverts it.
    func testMaskRoundTripAndDiffers() {
        for crc: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF, 0x8000_0000] {
            XCTAssertEqual(CRC32C.unmask(CRC32C.mask(crc)), crc)
            XCTAssertNotEqual(CRC32C.mask(crc), crc)
        }
        XCTAssertEqual(CRC32C.mask(0), 0xA282_EAD8)
    }
}
