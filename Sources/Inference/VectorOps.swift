/// Small vector loops of the forward pass, 16 lanes at a time with a scalar tail. Each lane does
/// the same operations in the same order as the scalar loop would, so results are identical.
enum VectorOps {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// `y[0..<n] = 0`.
    @inline(__always)
    static func zero(_ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var c = 0
        while c + 16 <= n { store(V(repeating: 0), y + c); c += 16 }
        while c < n { y[c] = 0; c += 1 }
    }

    /// `y[c] += w * x[c]` (multiply then add, not fused).
    @inline(__always)
    static func addScaled(_ w: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let wv = V(repeating: w)
        var c = 0
        while c + 16 <= n { store(load(y + c) + wv * load(x + c), y + c); c += 16 }
        while c < n { y[c] += w * x[c]; c += 1 }
    }

    /// `y[c] /= d`.
    @inline(__always)
    static func divide(_ y: UnsafeMutablePointer<Float>, by d: Float, _ n: Int) {
        let dv = V(repeating: d)
        var c = 0
        while c + 16 <= n { store(load(y + c) / dv, y + c); c += 16 }
        while c < n { y[c] /= d; c += 1 }
    }

    /// FM second-order term of one item: `out[d] = 0.5 * ((Σ_f v[f,d])² - Σ_f v[f,d]²)` over a
    /// row of `fields` embeddings of `dim` floats.
    @inline(__always)
    static func factorizationMachine(_ row: UnsafePointer<Float>, fields: Int, dim: Int, into out: UnsafeMutablePointer<Float>) {
        var d = 0
        while d + 16 <= dim {
            var sum = V(repeating: 0), sq = V(repeating: 0)
            for j in 0..<fields { let v = load(row + j * dim + d); sum += v; sq += v * v }
            store(0.5 * (sum * sum - sq), out + d)
            d += 16
        }
        while d < dim {
            var sum: Float = 0, sq: Float = 0
            for j in 0..<fields { let v = row[j * dim + d]; sum += v; sq += v * v }
            out[d] = 0.5 * (sum * sum - sq)
            d += 1
        }
    }
}
