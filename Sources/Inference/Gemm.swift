/// Register-blocked SIMD GEMM for the DNN layers: `C[m, np] = bias + A[m, k] * W[k, np]`,
/// W row-major with `np` a multiple of 32 (layers are zero-padded to it). The micro-kernel
/// computes 4 rows x 32 columns with eight SIMD16 accumulators (fma with `-target-cpu haswell`).
enum Gemm {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    static func multiply(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
                         w: UnsafePointer<Float>, np: Int, bias: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        var j = 0
        while j < np {
            let b0 = load(bias + j), b1 = load(bias + j + 16)
            var i = 0
            while i + 4 <= m {
                var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1
                let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
                var wp = w + j
                for kk in 0..<k {
                    let w0 = load(wp), w1 = load(wp + 16)
                    let x0 = V(repeating: a0[kk]), x1 = V(repeating: a1[kk])
                    let x2 = V(repeating: a2[kk]), x3 = V(repeating: a3[kk])
                    c00.addProduct(x0, w0); c01.addProduct(x0, w1)
                    c10.addProduct(x1, w0); c11.addProduct(x1, w1)
                    c20.addProduct(x2, w0); c21.addProduct(x2, w1)
                    c30.addProduct(x3, w0); c31.addProduct(x3, w1)
                    wp += np
                }
                let r0 = c + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
                store(c00, r0); store(c01, r0 + 16)
                store(c10, r1); store(c11, r1 + 16)
                store(c20, r2); store(c21, r2 + 16)
                store(c30, r3); store(c31, r3 + 16)
                i += 4
            }
            while i < m {
                var c0 = b0, c1 = b1
                let ar = a + i * lda
                var wp = w + j
                for kk in 0..<k {
                    let x = V(repeating: ar[kk])
                    c0.addProduct(x, load(wp)); c1.addProduct(x, load(wp + 16))
                    wp += np
                }
                let r = c + i * ldc + j
                store(c0, r); store(c1, r + 16)
                i += 1
            }
            j += 32
        }
    }

    /// In place over `m` rows of width `np` (stride `ldc`): optional batch norm
    /// `(x - mean) * scale + beta` (scale = gamma / sqrt(var + eps)), then relu.
    static func batchNormRelu(c: UnsafeMutablePointer<Float>, m: Int, np: Int, ldc: Int,
                              mean: UnsafePointer<Float>?, scale: UnsafePointer<Float>?, beta: UnsafePointer<Float>?) {
        let zero = V(repeating: 0)
        for i in 0..<m {
            let row = c + i * ldc
            var j = 0
            while j < np {
                var x = load(row + j)
                if let mean, let scale, let beta {
                    x = (x - load(mean + j)) * load(scale + j) + load(beta + j)
                }
                store(x.replacing(with: zero, where: x .< zero), row + j)
                j += 16
            }
        }
    }

    /// Dot product of `n` floats (vectorised, 16 lanes).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n { acc.addProduct(load(a + i), load(b + i)); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }
}
