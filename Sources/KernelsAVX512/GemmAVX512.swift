/// DNN-layer GEMM for AVX-512 CPUs: `C[m, np] = act(bias + A[m, k] W[k, np])` with W packed in
/// panels of 32 columns (`k x 32` each, row-major inside the panel). This module is compiled with
/// `-target-cpu skylake-avx512`; callers must check the CPU first (Inference's `SIMDLevel`).
public enum GemmAVX512 {
    typealias V = SIMD16<Float>

    /// Columns per packed panel: two 16-lane registers per row.
    public static let panelWidth = 32

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, relu: Bool) {
        let x = relu ? v.replacing(with: 0, where: v .< 0) : v
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self)
    }

    /// `C = act(bias + A W)`: 12-row x 32-column register blocks (24 accumulators of the 32 zmm
    /// registers), 4-row blocks, then single rows over two panels at once. Every block sums over
    /// k in the same order, so an item's outputs do not depend on the batch it is in. `np` is a
    /// multiple of 32.
    public static func multiply(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
                                packed w: UnsafePointer<Float>, np: Int, bias: UnsafePointer<Float>,
                                relu: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let blocked = m / 4 * 4
        // Row blocks of 96 keep their rows of A in L2 while each W panel streams through L1.
        var rowBlock = 0
        while rowBlock < blocked {
            let rowEnd = min(rowBlock + 96, blocked)
            var j = 0
            while j < np {
                let panel = w + j * k
                let b0 = load(bias + j), b1 = load(bias + j + 16)
                var i = rowBlock
                while i + 12 <= rowEnd {
                    block12(a: a + i * lda, lda: lda, k: k, panel: panel, b0: b0, b1: b1, relu: relu, c: c + i * ldc + j, ldc: ldc)
                    i += 12
                }
                while i < rowEnd {
                    block4(a: a + i * lda, lda: lda, k: k, panel: panel, b0: b0, b1: b1, relu: relu, c: c + i * ldc + j, ldc: ldc)
                    i += 4
                }
                j += panelWidth
            }
            rowBlock = rowEnd
        }
        if blocked == m { return }
        // Single rows read each weight once: the product is bound by streaming W. Rows of zeros
        // (relu outputs) need none of their W rows, so the row kernels run over the nonzero k
        // only, in increasing order: for finite weights the sums are those of the blocks above
        // (adding x * w = ±0 changes no sum but the sign of a zero one).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(k, 1)) { nonzero in
            guard let nz = nonzero.baseAddress else { return }
            for i in blocked..<m {
                let ar = a + i * lda, cr = c + i * ldc
                let count = nonzeroColumns(ar, k, into: nz)
                var j = 0
                while j + 2 * panelWidth <= np {
                    row2(a: ar, nonzero: nz, count: count, k: k, panel: w + j * k, bias: bias + j, relu: relu, c: cr + j)
                    j += 2 * panelWidth
                }
                if j < np { row1(a: ar, nonzero: nz, count: count, panel: w + j * k, bias: bias + j, relu: relu, c: cr + j) }
            }
        }
    }

    /// Writes the indices `kk` with `a[kk] != 0` to `nz` in increasing order; returns how many.
    /// Branch-free (relu zeros fall at random).
    @inline(__always)
    static func nonzeroColumns(_ a: UnsafePointer<Float>, _ k: Int, into nz: UnsafeMutablePointer<Int>) -> Int {
        var n = 0
        for kk in 0..<k {
            nz[n] = kk
            n &+= a[kk] != 0 ? 1 : 0
        }
        return n
    }

    @inline(__always)
    static func block12(a: UnsafePointer<Float>, lda: Int, k: Int, panel: UnsafePointer<Float>, b0: V, b1: V,
                        relu: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Row pointers hoisted: no index arithmetic (and no overflow checks) in the k loop.
        let p0 = a, p1 = a + lda, p2 = a + 2 * lda, p3 = a + 3 * lda, p4 = a + 4 * lda, p5 = a + 5 * lda
        let p6 = a + 6 * lda, p7 = a + 7 * lda, p8 = a + 8 * lda, p9 = a + 9 * lda, p10 = a + 10 * lda, p11 = a + 11 * lda
        var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1
        var c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1
        var c80 = b0, c81 = b1, c90 = b0, c91 = b1, c100 = b0, c101 = b1, c110 = b0, c111 = b1
        var wp = panel
        for kk in 0..<k {
            let w0 = load(wp), w1 = load(wp + 16)
            var x = V(repeating: p0[kk]); c00.addProduct(x, w0); c01.addProduct(x, w1)
            x = V(repeating: p1[kk]); c10.addProduct(x, w0); c11.addProduct(x, w1)
            x = V(repeating: p2[kk]); c20.addProduct(x, w0); c21.addProduct(x, w1)
            x = V(repeating: p3[kk]); c30.addProduct(x, w0); c31.addProduct(x, w1)
            x = V(repeating: p4[kk]); c40.addProduct(x, w0); c41.addProduct(x, w1)
            x = V(repeating: p5[kk]); c50.addProduct(x, w0); c51.addProduct(x, w1)
            x = V(repeating: p6[kk]); c60.addProduct(x, w0); c61.addProduct(x, w1)
            x = V(repeating: p7[kk]); c70.addProduct(x, w0); c71.addProduct(x, w1)
            x = V(repeating: p8[kk]); c80.addProduct(x, w0); c81.addProduct(x, w1)
            x = V(repeating: p9[kk]); c90.addProduct(x, w0); c91.addProduct(x, w1)
            x = V(repeating: p10[kk]); c100.addProduct(x, w0); c101.addProduct(x, w1)
            x = V(repeating: p11[kk]); c110.addProduct(x, w0); c111.addProduct(x, w1)
            wp += panelWidth
        }
        store(c00, c, relu: relu); store(c01, c + 16, relu: relu)
        store(c10, c + ldc, relu: relu); store(c11, c + ldc + 16, relu: relu)
        store(c20, c + 2 * ldc, relu: relu); store(c21, c + 2 * ldc + 16, relu: relu)
        store(c30, c + 3 * ldc, relu: relu); store(c31, c + 3 * ldc + 16, relu: relu)
        store(c40, c + 4 * ldc, relu: relu); store(c41, c + 4 * ldc + 16, relu: relu)
        store(c50, c + 5 * ldc, relu: relu); store(c51, c + 5 * ldc + 16, relu: relu)
        store(c60, c + 6 * ldc, relu: relu); store(c61, c + 6 * ldc + 16, relu: relu)
        store(c70, c + 7 * ldc, relu: relu); store(c71, c + 7 * ldc + 16, relu: relu)
        store(c80, c + 8 * ldc, relu: relu); store(c81, c + 8 * ldc + 16, relu: relu)
        store(c90, c + 9 * ldc, relu: relu); store(c91, c + 9 * ldc + 16, relu: relu)
        store(c100, c + 10 * ldc, relu: relu); store(c101, c + 10 * ldc + 16, relu: relu)
        store(c110, c + 11 * ldc, relu: relu); store(c111, c + 11 * ldc + 16, relu: relu)
    }

    @inline(__always)
    static func block4(a: UnsafePointer<Float>, lda: Int, k: Int, panel: UnsafePointer<Float>, b0: V, b1: V,
                       relu: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let p0 = a, p1 = a + lda, p2 = a + 2 * lda, p3 = a + 3 * lda
        var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1
        var wp = panel
        for kk in 0..<k {
            let w0 = load(wp), w1 = load(wp + 16)
            var x = V(repeating: p0[kk]); c00.addProduct(x, w0); c01.addProduct(x, w1)
            x = V(repeating: p1[kk]); c10.addProduct(x, w0); c11.addProduct(x, w1)
            x = V(repeating: p2[kk]); c20.addProduct(x, w0); c21.addProduct(x, w1)
            x = V(repeating: p3[kk]); c30.addProduct(x, w0); c31.addProduct(x, w1)
            wp += panelWidth
        }
        store(c00, c, relu: relu); store(c01, c + 16, relu: relu)
        store(c10, c + ldc, relu: relu); store(c11, c + ldc + 16, relu: relu)
        store(c20, c + 2 * ldc, relu: relu); store(c21, c + 2 * ldc + 16, relu: relu)
        store(c30, c + 3 * ldc, relu: relu); store(c31, c + 3 * ldc + 16, relu: relu)
    }

    /// One row over two adjacent panels (64 columns), over the `count` nonzero `a[kk]` listed in
    /// `nonzero`: four independent fma chains.
    @inline(__always)
    static func row2(a: UnsafePointer<Float>, nonzero: UnsafePointer<Int>, count: Int, k: Int, panel: UnsafePointer<Float>,
                     bias: UnsafePointer<Float>, relu: Bool, c: UnsafeMutablePointer<Float>) {
        var c0 = load(bias), c1 = load(bias + 16), c2 = load(bias + 32), c3 = load(bias + 48)
        let second = panel + k * panelWidth
        for t in 0..<count {
            let kk = nonzero[t]
            let x = V(repeating: a[kk])
            let wp = panel + kk * panelWidth, wq = second + kk * panelWidth
            c0.addProduct(x, load(wp)); c1.addProduct(x, load(wp + 16))
            c2.addProduct(x, load(wq)); c3.addProduct(x, load(wq + 16))
        }
        store(c0, c, relu: relu); store(c1, c + 16, relu: relu)
        store(c2, c + 32, relu: relu); store(c3, c + 48, relu: relu)
    }

    /// One row over one panel (32 columns), over the nonzero `a[kk]` listed in `nonzero`.
    @inline(__always)
    static func row1(a: UnsafePointer<Float>, nonzero: UnsafePointer<Int>, count: Int, panel: UnsafePointer<Float>,
                     bias: UnsafePointer<Float>, relu: Bool, c: UnsafeMutablePointer<Float>) {
        var c0 = load(bias), c1 = load(bias + 16)
        for t in 0..<count {
            let kk = nonzero[t]
            let x = V(repeating: a[kk])
            let wp = panel + kk * panelWidth
            c0.addProduct(x, load(wp)); c1.addProduct(x, load(wp + 16))
        }
        store(c0, c, relu: relu); store(c1, c + 16, relu: relu)
    }
}
