/// Register-blocked SIMD GEMM for the DNN layers: `C[m, np] = bias + A[m, k] * W[k, np]`,
/// W row-major with `np` a multiple of 16 (layers are zero-padded to 32). fma with
/// `-target-cpu haswell`.
enum Gemm {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    typealias V8 = SIMD8<Float>

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }

    @inline(__always)
    static func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }

    /// `C = bias + A W` over column panels of 16 (a K x 16 panel of W stays in L1): a 6-row x
    /// 16-column micro-kernel keeps 12 SIMD8 accumulators in the 16 AVX registers (the classic
    /// Haswell shape), then a 1-row kernel for the remaining rows.
    static func multiply(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
                         w: UnsafePointer<Float>, np: Int, bias: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int) {
        let m6 = m / 6 * 6
        // Row blocks of 96 keep the A block in L2 while every W panel streams through L1.
        var rowBlock = 0
        while rowBlock < m6 {
        let rowEnd = min(rowBlock + 96, m6)
        var j = 0
        while j < np {
            let b0 = load8(bias + j), b1 = load8(bias + j + 8)
            var i = rowBlock
            while i < rowEnd {
                var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1
                var c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1
                let a0 = a + i * lda
                var wp = w + j
                for kk in 0..<k {
                    let w0 = load8(wp), w1 = load8(wp + 8)
                    var x = V8(repeating: a0[kk])
                    c00.addProduct(x, w0); c01.addProduct(x, w1)
                    x = V8(repeating: a0[lda + kk])
                    c10.addProduct(x, w0); c11.addProduct(x, w1)
                    x = V8(repeating: a0[2 * lda + kk])
                    c20.addProduct(x, w0); c21.addProduct(x, w1)
                    x = V8(repeating: a0[3 * lda + kk])
                    c30.addProduct(x, w0); c31.addProduct(x, w1)
                    x = V8(repeating: a0[4 * lda + kk])
                    c40.addProduct(x, w0); c41.addProduct(x, w1)
                    x = V8(repeating: a0[5 * lda + kk])
                    c50.addProduct(x, w0); c51.addProduct(x, w1)
                    wp += np
                }
                let r = c + i * ldc + j
                store8(c00, r); store8(c01, r + 8)
                store8(c10, r + ldc); store8(c11, r + ldc + 8)
                store8(c20, r + 2 * ldc); store8(c21, r + 2 * ldc + 8)
                store8(c30, r + 3 * ldc); store8(c31, r + 3 * ldc + 8)
                store8(c40, r + 4 * ldc); store8(c41, r + 4 * ldc + 8)
                store8(c50, r + 5 * ldc); store8(c51, r + 5 * ldc + 8)
                i += 6
            }
            j += 16
        }
        rowBlock = rowEnd
        }
        // Remaining rows (and batch 1): one row at a time, 32 columns (4 independent fma chains).
        for i in m6..<m {
            let ar = a + i * lda
            var j = 0
            while j + 32 <= np {
                var c0 = load8(bias + j), c1 = load8(bias + j + 8), c2 = load8(bias + j + 16), c3 = load8(bias + j + 24)
                var wp = w + j
                for kk in 0..<k {
                    let x = V8(repeating: ar[kk])
                    c0.addProduct(x, load8(wp)); c1.addProduct(x, load8(wp + 8))
                    c2.addProduct(x, load8(wp + 16)); c3.addProduct(x, load8(wp + 24))
                    wp += np
                }
                let r = c + i * ldc + j
                store8(c0, r); store8(c1, r + 8); store8(c2, r + 16); store8(c3, r + 24)
                j += 32
            }
            while j < np {
                var c0 = load8(bias + j), c1 = load8(bias + j + 8)
                var wp = w + j
                for kk in 0..<k {
                    let x = V8(repeating: ar[kk])
                    c0.addProduct(x, load8(wp)); c1.addProduct(x, load8(wp + 8))
                    wp += np
                }
                let r = c + i * ldc + j
                store8(c0, r); store8(c1, r + 8)
                j += 16
            }
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
