/// Row-major float kernels for the DNN on raw pointers (vectorised by the compiler: every
/// inner loop is `c[n] += a * b[n]` over contiguous memory).
enum DenseKernels {
    /// `out[B,N] = bias[N] + x[B,K] * w[K,N]`. Zero inputs (ReLU outputs) are skipped.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, rows: Int, k: Int, _ w: UnsafePointer<Float>, n: Int,
                       bias: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for b in 0..<rows {
            let o = out + b * n
            o.update(from: bias, count: n)
            let xr = x + b * k
            for kk in 0..<k {
                let xv = xr[kk]
                if xv == 0 { continue }
                let wr = w + kk * n
                for j in 0..<n { o[j] += xv * wr[j] }
            }
        }
    }

    /// `dw[K,N] += x[B,K]^T * g[B,N]`, for kernel rows `kRange` (all when nil).
    @inline(__always)
    static func accumulateWeightGrad(_ x: UnsafePointer<Float>, rows: Int, k: Int, _ g: UnsafePointer<Float>, n: Int,
                                     _ dw: UnsafeMutablePointer<Float>, kRange: Range<Int>? = nil) {
        let ks = kRange ?? 0..<k
        for b in 0..<rows {
            let xr = x + b * k
            let gr = g + b * n
            for kk in ks {
                let xv = xr[kk]
                if xv == 0 { continue }
                let d = dw + kk * n
                for j in 0..<n { d[j] += xv * gr[j] }
            }
        }
    }

    /// `dx[B,K] = g[B,N] * w^T` given `wT[N,K]` (the transposed kernel).
    @inline(__always)
    static func inputGrad(_ g: UnsafePointer<Float>, rows: Int, n: Int, _ wT: UnsafePointer<Float>, k: Int,
                          _ dx: UnsafeMutablePointer<Float>) {
        for b in 0..<rows {
            let d = dx + b * k
            d.update(repeating: 0, count: k)
            let gr = g + b * n
            for j in 0..<n {
                let gv = gr[j]
                if gv == 0 { continue }
                let wr = wT + j * k
                for kk in 0..<k { d[kk] += gv * wr[kk] }
            }
        }
    }

    /// `wT[N,K] = w[K,N]^T`.
    static func transpose(_ w: UnsafePointer<Float>, k: Int, n: Int, _ wT: UnsafeMutablePointer<Float>) {
        for kk in 0..<k {
            let wr = w + kk * n
            for j in 0..<n { wT[j * k + kk] = wr[j] }
        }
    }
}
