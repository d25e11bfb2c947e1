@testable import ArrayIO
import XCTest
@testable import Inference

final class NpyTests: XCTestCase {
    func testRoundTrips() throws {
        let t = TempDir()
        let shapes: [[Int]] = [[], [0], [5], [3, 4], [2, 3, 4]]
        for (i, shape) in shapes.enumerated() {
            let n = shape.reduce(1, *)
            let f = (0..<n).map { Float($0) * 0.25 - 1 }
            let k = (0..<n).map { Int64($0) * -3_000_000_000 }
            for ext in [".npy", ".npy.gz"] {
                let fp = t.path + "/f\(i)\(ext)", kp = t.path + "/k\(i)\(ext)"
                try Npy.write(f, shape: shape, to: fp)
                try Npy.write(k, shape: shape, to: kp)
                let rf = try Npy.readFloats(path: fp)
                XCTAssertEqual(rf.shape, shape); XCTAssertEqual(rf.values, f)
                let rk = try Npy.readInt64s(path: kp)
                XCTAssertEqual(rk.shape, shape); XCTAssertEqual(rk.values, k)
                XCTAssertEqual(try Npy.readHeader(path: fp).shape, shape)
                if ext == ".npy" { XCTAssertEqual(try Npy.readHeader(path: fp).dataOffset % 64, 0) }
            }
        }
    }

    func testMemoryMapIsPrivateCopyOnWrite() throws {
        let t = TempDir()
        let p = t.path + "/m.npy"
        let values = (0..<10_000).map { Float($0) }
        try Npy.write(values, shape: [2500, 4], to: p)
        let (shape, buf) = try Npy.loadFloatBuffer(path: p)
        XCTAssertEqual(shape, [2500, 4])
        XCTAssertTrue(buf.isMapped)
        XCTAssertEqual(buf.toArray(), values)
        buf.pointer[7] = -1
        XCTAssertEqual(buf.pointer[7], -1)
        XCTAssertEqual(try Npy.readFloats(path: p).values[7], 7, "a private mapping never writes the file")
        let (_, gz) = try { () throws -> ([Int], FloatBuffer) in
            try Npy.write(values, shape: [2500, 4], to: p + ".gz")
            return try Npy.loadFloatBuffer(path: p + ".gz")
        }()
        XCTAssertFalse(gz.isMapped)
        XCTAssertEqual(gz.toArray(), values)
    }

    func testReadsNumpyWrittenFiles() throws {
        // Written by numpy.save in scripts/deepfm_reference.py.
        let dir = Fixture.root + "/deepfm_final"
        let k = try Npy.readInt64s(path: dir + "/embeddings/1.keys.npy")
        XCTAssertEqual(k.shape, [12])
        XCTAssertTrue(k.values.allSatisfy { $0 >= 1 << 40 })
        let h = try Npy.readHeader(path: dir + "/embeddings/0.npy")
        XCTAssertEqual(h.shape, [40, 3])
        XCTAssertEqual(h.dtype, .float32)
    }

    func testErrors() throws {
        let t = TempDir()
        let p = t.path + "/x.npy"
        try Npy.write([1, 2, 3, 4] as [Float], shape: [4], to: p)
        var bytes = try FileIO.readAll(p)
        func expectError(_ b: [UInt8], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try b.withUnsafeBytes { try Npy.decodeFloats($0, path: "x") }, line: line) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0)", line: line)
            }
        }
        expectError(Array(bytes.dropLast(2)), "truncated data")
        expectError(bytes + [0, 0, 0, 0], "trailing bytes")
        expectError(Array(bytes.prefix(5)), "truncated header")
        var m = bytes; m[1] = 0x4F
        expectError(m, "bad magic")
        var v = bytes; v[6] = 9
        expectError(v, "unsupported .npy format version")
        let headerText = String(decoding: bytes[10..<64], as: UTF8.self)
        bytes.replaceSubrange(10..<64, with: Array(headerText.replacingOccurrences(of: "<f4", with: "<f8").utf8))
        expectError(bytes, "unsupported dtype <f8")
        XCTAssertThrowsError(try Npy.readInt64s(path: p)) { XCTAssertTrue("\($0)".contains("expected <i8")) }
        XCTAssertThrowsError(try Npy.readFloats(path: t.path + "/missing.npy")) { XCTAssertTrue("\($0)".contains("missing.npy")) }
        XCTAssertThrowsError(try Npy.write([1, 2] as [Float], shape: [3], to: p))
        try FileIO.writeAll(t.path + "/bad.npy.gz", [1, 2, 3, 4])
        XCTAssertThrowsError(try Npy.readFloats(path: t.path + "/bad.npy.gz")) { XCTAssertTrue("\($0)".contains("gzip")) }
        // Fortran order is refused.
        var f = try FileIO.readAll(p)
        let ht = String(decoding: f[10..<64], as: UTF8.self).replacingOccurrences(of: "False", with: "True ")
        f.replaceSubrange(10..<64, with: Array(ht.utf8))
        expectError(f, "fortran_order")
    }

    func testGzipRoundTripAndCorruption() throws {
        var rng = SplitMix(3)
        let data = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: rng.next() % 7) }
        let z = try Gzip.compress(data)
        XCTAssertLessThan(z.count, data.count)
        XCTAssertEqual(try Gzip.decompress(z), data)
        XCTAssertThrowsError(try Gzip.decompress(Array(z.prefix(z.count / 2))))
        XCTAssertThrowsError(try Gzip.decompress(z + [1, 2, 3]))
        XCTAssertEqual(try Gzip.decompress(try Gzip.compress([])), [])
    }
}
