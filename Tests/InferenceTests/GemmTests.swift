import XCTest
@testable import Inference

final class GemmTests: XCTestCase {
    /// Levels this CPU can run: AVX2 always (the build baseline), AVX-512 where detected.
    var levels: [SIMDLevel] { SIMDLevel.current == .avx512 ? [.avx2, .avx512] : [.avx2] }

    func multiply(_ a: [Float], m: Int, k: Int, packed: [Float], np: Int, bias: [Float], relu: Bool, level: SIMDLevel) -> [Float] {
        var c = [Float](repeating: .nan, count: m * np)
        a.withUnsafeBufferPointer { ap in packed.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                Gemm.multiply(a: ap.baseAddress!, lda: k, m: m, k: k, packed: wp.baseAddress!, np: np, bias: bp.baseAddress!,
                              relu: relu, c: cp.baseAddress!, ldc: np, level: level)
            }
        } } }
        return c
    }

    /// Both kernels equal a naive product (with and without relu) for shapes covering every code
    /// path: 12-, 6- and 4-row blocks, 96-row blocks, single-row tails over one and two panels.
    func testMatchesNaiveProduct() {
        var rng = SplitMix(9)
        func r() -> Float { Float(Int(rng.next() % 2001) - 1000) / 1000 }
        for (m, k, n) in [(1, 1, 16), (1, 37, 32), (1, 20, 64), (3, 9, 96), (5, 20, 48), (6, 8, 16), (7, 33, 64),
                          (13, 5, 70), (97, 19, 32), (200, 41, 80), (1024, 16, 16)] {
            let np = (n + 31) / 32 * 32
            let a = (0..<(m * k)).map { _ in r() }
            let w = (0..<(k * n)).map { _ in r() }
            let bias = (0..<n).map { _ in r() } + [Float](repeating: 0, count: np - n)
            let packed = Gemm.pack(w, k: k, n: n, np: np)
            for level in levels {
                for relu in [false, true] {
                    let c = multiply(a, m: m, k: k, packed: packed, np: np, bias: bias, relu: relu, level: level)
                    for i in 0..<m {
                        for j in 0..<np {
                            var s = Double(bias[j])
                            if j < n { for kk in 0..<k { s += Double(a[i * k + kk]) * Double(w[kk * n + j]) } }
                            if relu { s = max(s, 0) }
                            XCTAssertEqual(Double(c[i * np + j]), s, accuracy: 1e-4, "\(level) m \(m) k \(k) n \(n) at \(i),\(j)")
                        }
                    }
                }
            }
        }
    }

    /// An item's outputs are bit-identical whatever batch it is computed in (every block sums over
    /// k in the same order), and the AVX2 and AVX-512 kernels agree bit for bit.
    func testBatchInvariantAndKernelsAgree() {
        var rng = SplitMix(3)
        func r() -> Float { Float(Int(rng.next() % 2001) - 1000) / 997 }
        let k = 45, n = 96, m = 29
        let a = (0..<(m * k)).map { _ in r() }
        let packed = Gemm.pack((0..<(k * n)).map { _ in r() }, k: k, n: n, np: n)
        let bias = (0..<n).map { _ in r() }
        let reference = multiply(a, m: m, k: k, packed: packed, np: n, bias: bias, relu: true, level: .avx2)
        for level in levels {
            XCTAssertEqual(multiply(a, m: m, k: k, packed: packed, np: n, bias: bias, relu: true, level: level), reference, "\(level)")
            for row in [0, 5, 12, 28] {
                let single = multiply(Array(a[(row * k)..<((row + 1) * k)]), m: 1, k: k, packed: packed, np: n, bias: bias, relu: true, level: level)
                XCTAssertEqual(single, Array(reference[(row * n)..<((row + 1) * n)]), "\(level) row \(row) alone")
            }
        }
    }

    /// Inputs with many zeros (relu outputs; some -0): the single-row kernels skip them. Both
    /// kernels still equal a naive product, and a row alone equals the same row computed in a
    /// block (where nothing is skipped), for one and two panels and an all-zero row.
    func testSparseRowsMatchBlocks() {
        var rng = SplitMix(11)
        func r() -> Float {
            let v = Float(Int(rng.next() % 2001) - 1000) / 991
            return v < 0 ? (rng.next() % 4 == 0 ? -0.0 : 0) : v
        }
        for (k, n) in [(256, 128), (81, 64), (7, 32), (64, 96)] {
            let m = 24
            var a = (0..<(m * k)).map { _ in r() }
            for kk in 0..<k { a[3 * k + kk] = 0 }
            let w = (0..<(k * n)).map { _ in r() - 0.25 }
            let bias = (0..<n).map { _ in r() - 0.25 }
            let packed = Gemm.pack(w, k: k, n: n, np: n)
            let reference = multiply(a, m: m, k: k, packed: packed, np: n, bias: bias, relu: true, level: .avx2)
            for level in levels {
                XCTAssertEqual(multiply(a, m: m, k: k, packed: packed, np: n, bias: bias, relu: true, level: level), reference, "\(level) k \(k)")
                for row in [0, 3, 7, 23] {
                    let x = Array(a[(row * k)..<((row + 1) * k)])
                    let single = multiply(x, m: 1, k: k, packed: packed, np: n, bias: bias, relu: true, level: level)
                    XCTAssertEqual(single, Array(reference[(row * n)..<((row + 1) * n)]), "\(level) k \(k) row \(row) alone")
                    for j in 0..<n {
                        var s = Double(bias[j])
                        for kk in 0..<k { s += Double(x[kk]) * Double(w[kk * n + j]) }
                        XCTAssertEqual(Double(single[j]), max(s, 0), accuracy: 1e-4, "\(level) k \(k) row \(row) column \(j)")
                    }
                }
            }
        }
    }

    /// Packing places (r, c) at panel c / 32, row r, lane c % 32 and zero-pads the last panel.
    func testPackLayout() {
        let k = 3, n = 40
        let w = (0..<(k * n)).map { Float($0) }
        let p = Gemm.pack(w, k: k, n: n, np: 64)
        XCTAssertEqual(p.count, k * 64)
        XCTAssertEqual(p[0 * 96 + 2 * 32 + 5], w[2 * n + 5])
        XCTAssertEqual(p[1 * 96 + 1 * 32 + 7], w[1 * n + 39])
        XCTAssertEqual(p[1 * 96 + 1 * 32 + 8], 0)
    }

    /// AVX-512 needs F, BW, DQ and VL in the flags line; ODL_SIMD=avx2 forces the baseline.
    func testSIMDLevelDetection() {
        let full = "processor : 0\nflags\t\t: fpu sse avx2 fma avx512f avx512dq avx512bw avx512vl avx512cd\n"
        let partial = "flags\t\t: fpu sse avx2 fma avx512f avx512cd\n"
        #if arch(x86_64) && os(Linux)
        XCTAssertEqual(SIMDLevel.detect(cpuinfo: full, environment: nil), .avx512)
        #endif
        XCTAssertEqual(SIMDLevel.detect(cpuinfo: full, environment: "AVX2"), .avx2)
        XCTAssertEqual(SIMDLevel.detect(cpuinfo: partial, environment: nil), .avx2)
        XCTAssertEqual(SIMDLevel.detect(cpuinfo: nil, environment: nil), .avx2)
    }
}
