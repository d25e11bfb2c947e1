import KernelsAVX512

/// GEMM for the DNN layers: `C[m, np] = act(bias + A[m, k] W[k, np])`, W packed by
/// ``pack(_:k:n:np:)`` into panels of 32 columns, `np` a multiple of 32. Runs the AVX-512
/// kernel where ``SIMDLevel/current`` allows, else the AVX2+FMA kernel below. Within a kernel
/// every row sums over k in the same order, so an item's score does not depend on its batch.
enum Gemm {
    typealias V = SIMD16<Float>
    typealias V8 = SIMD8<Float>

    /// Columns per packed panel.
    static let panelWidth = 32

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }

    @inline(__always)
    static func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>, relu: Bool) {
        let x = relu ? v.replacing(with: 0, where: v .< 0) : v
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: V8.self)
    }

    /// Packs a row-major `[k, n]` matrix into `np / 32` panels of `k x 32` (zero-padded columns):
    /// element (r, c) lands at `(c / 32) * k * 32 + r * 32 + c % 32`. Needs `w.count == k * n`.
    static func pack(_ w: [Float], k: Int, n: Int, np: Int) -> [Float] {
        var out = [Float](repeating: 0, count: k * np)
        guard w.count == k * n, np >= n, np % panelWidth == 0 else { return out }
        for r in 0..<k {
            for c in 0..<n { out[(c / panelWidth) * k * panelWidth + r * panelWidth + c % panelWidth] = w[r * n + c] }
        }
        return out
    }

    /// `C = act(bias + A W)` with the kernel of ``SIMDLevel/current``.
    static func multiply(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
                         packed w: UnsafePointer<Float>, np: Int, bias: UnsafePointer<Float>,
                         relu: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, level: SIMDLevel = SIMDLevel.current) {
        switch level {
        case .avx512:
            GemmAVX512.multiply(a: a, lda: lda, m: m, k: k, packed: w, np: np, bias: bias, relu: relu, c: c, ldc: ldc)
        case .avx2:
            multiplyAVX2(a: a, lda: lda, m: m, k: k, packed: w, np: np, bias: bias, relu: relu, c: c, ldc: ldc)
        }
    }

    /// The AVX2 kernel: 6-row x 16-column blocks (12 SIMD8 accumulators of the 16 ymm registers,
    /// the classic Haswell shape) over each half panel, then single rows over a whole panel.
    static func multiplyAVX2(a: UnsafePointer<Float>, lda: Int, m: Int, k: Int,
                             packed w: UnsafePointer<Float>, np: Int, bias: UnsafePointer<Float>,
                             relu: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let m6 = m / 6 * 6
        // Row blocks of 96 keep their rows of A in L2 while each W panel streams through L1.
        var rowBlock = 0
        while rowBlock < m6 {
        let rowEnd = min(rowBlock + 96, m6)
        var j = 0
        while j < np {
            let panel = w + j * k
            for half in stride(from: 0, to: panelWidth, by: 16) {
                let b0 = load8(bias + j + half), b1 = load8(bias + j + half + 8)
                var i = rowBlock
                while i < rowEnd {
                    // Row pointers hoisted: no index arithmetic (and no overflow checks) in the k loop.
                    let p0 = a + i * lda, p1 = p0 + lda, p2 = p1 + lda, p3 = p2 + lda, p4 = p3 + lda, p5 = p4 + lda
                    var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1
                    var c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1
                    var wp = panel + half
                    for kk in 0..<k {
                        let w0 = load8(wp), w1 = load8(wp + 8)
                        var x = V8(repeating: p0[kk]); c00.addProduct(x, w0); c01.addProduct(x, w1)
                        x = V8(repeating: p1[kk]); c10.addProduct(x, w0); c11.addProduct(x, w1)
                        x = V8(repeating: p2[kk]); c20.addProduct(x, w0); c21.addProduct(x, w1)
                        x = V8(repeating: p3[kk]); c30.addProduct(x, w0); c31.addProduct(x, w1)
                        x = V8(repeating: p4[kk]); c40.addProduct(x, w0); c41.addProduct(x, w1)
                        x = V8(repeating: p5[kk]); c50.addProduct(x, w0); c51.addProduct(x, w1)
                        wp += panelWidth
                    }
                    let r = c + i * ldc + j + half
                    store8(c00, r, relu: relu); store8(c01, r + 8, relu: relu)
                    store8(c10, r + ldc, relu: relu); store8(c11, r + ldc + 8, relu: relu)
                    store8(c20, r + 2 * ldc, relu: relu); store8(c21, r + 2 * ldc + 8, relu: relu)
                    store8(c30, r + 3 * ldc, relu: relu); store8(c31, r + 3 * ldc + 8, relu: relu)
                    store8(c40, r + 4 * ldc, relu: relu); store8(c41, r + 4 * ldc + 8, relu: relu)
                    store8(c50, r + 5 * ldc, relu: relu); store8(c51, r + 5 * ldc + 8, relu: relu)
                    i += 6
                }
            }
            j += panelWidth
        }
        rowBlock = rowEnd
        }
        // Remaining rows (and batch 1): one row over a whole panel (4 independent fma chains),
        // over the nonzero a[kk] only (see GemmAVX512: the same sums for finite weights).
        if m6 == m { return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(k, 1)) { nonzero in
            guard let nz = nonzero.baseAddress else { return }
            for i in m6..<m {
                let ar = a + i * lda
                let count = nonzeroColumns(ar, k, into: nz)
                var j = 0
                while j < np {
                    var c0 = load8(bias + j), c1 = load8(bias + j + 8), c2 = load8(bias + j + 16), c3 = load8(bias + j + 24)
                    let panel = w + j * k
                    for t in 0..<count {
                        let kk = nz[t]
                        let x = V8(repeating: ar[kk])
                        let wp = panel + kk * panelWidth
                        c0.addProduct(x, load8(wp)); c1.addProduct(x, load8(wp + 8))
                        c2.addProduct(x, load8(wp + 16)); c3.addProduct(x, load8(wp + 24))
                    }
                    let r = c + i * ldc + j
                    store8(c0, r, relu: relu); store8(c1, r + 8, relu: relu); store8(c2, r + 16, relu: relu); store8(c3, r + 24, relu: relu)
                    j += panelWidth
                }
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
