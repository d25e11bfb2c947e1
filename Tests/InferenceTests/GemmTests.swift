import XCTest
@testable import Inference

final class GemmTests: XCTestCase {
    /// The blocked SIMD kernel equals a naive product for shapes covering every code path
    /// (6-row blocks, 96-row blocks, row tails, 32- and 16-column panels).
    func testMatchesNaiveProduct() {
        var rng = SplitMix(9)
        func r() -> Float { Float(Int(rng.next() % 2001) - 1000) / 1000 }
        for (m, k, n) in [(1, 1, 16), (1, 37, 32), (5, 20, 48), (6, 8, 16), (7, 33, 64), (97, 19, 32), (200, 41, 80), (1024, 16, 16)] {
            let np = (n + 15) / 16 * 16
            let a = (0..<(m * k)).map { _ in r() }
            let w = (0..<(k * np)).map { _ in r() }
            let bias = (0..<np).map { _ in r() }
            var c = [Float](repeating: .nan, count: m * np)
            a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Gemm.multiply(a: ap.baseAddress!, lda: k, m: m, k: k, w: wp.baseAddress!, np: np, bias: bp.baseAddress!,
                                  c: cp.baseAddress!, ldc: np)
                }
            } } }
            for i in 0..<m {
                for j in 0..<np {
                    var s = Double(bias[j])
                    for kk in 0..<k { s += Double(a[i * k + kk]) * Double(w[kk * np + j]) }
                    XCTAssertEqual(Double(c[i * np + j]), s, accuracy: 1e-4, "m \(m) k \(k) n \(n) at \(i),\(j)")
                }
            }
        }
    }
}
