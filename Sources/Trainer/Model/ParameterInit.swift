import Foundation
import Inference

/// Deterministic initial values (EasyRec-like): glorot-uniform kernels, zero biases, batch norm
/// gamma 1 / beta 0 / moving mean 0 / moving variance 1, embeddings truncated normal with
/// stddev 1/sqrt(dim). Every variable and every key-value row has its own random stream
/// derived from (seed, variable, key), so values do not depend on creation order.
enum ParameterInit {
    /// SplitMix64: tiny, fast, well-mixed.
    struct Random {
        var state: UInt64
        init(_ seed: UInt64) { state = seed }
        @inline(__always) mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [0, 1).
        @inline(__always) mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
        /// Standard normal truncated to |x| < 2 (resampled), like `tf.truncated_normal`.
        mutating func truncatedNormal() -> Double {
            while true {
                let u1 = max(unit(), 0x1.0p-60), u2 = unit()
                let z = (-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2)
                if abs(z) < 2 { return z }
            }
        }
    }

    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var r = Random(a ^ (b &* 0xD6E8_FEB8_6659_FD93))
        return r.next()
    }

    static func streamSeed(_ seed: UInt64, _ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325            // FNV-1a over the name
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return mix(seed, h)
    }

    static func truncatedNormal(count: Int, stddev: Double, seed: UInt64) -> [Float] {
        var rng = Random(seed)
        return (0..<count).map { _ in Float(rng.truncatedNormal() * stddev) }
    }

    /// Initial values of a new key-value row.
    static func fillKeyRow(_ out: UnsafeMutablePointer<Float>, dim: Int, seed: UInt64, table: Int, key: Int64) {
        var rng = Random(mix(mix(seed, UInt64(table) &+ 0x4B56), UInt64(bitPattern: key)))
        let std = 1 / Double(dim).squareRoot()
        for i in 0..<dim { out[i] = Float(rng.truncatedNormal() * std) }
    }

    static func dense(_ v: DenseVariableSpec, seed: UInt64) -> [Float] {
        let n = v.elementCount
        let leaf = v.name.split(separator: "/").last.map(String.init) ?? v.name
        switch leaf {
        case "kernel" where v.shape.count == 2:
            let limit = (6 / Double(v.shape[0] + v.shape[1])).squareRoot()
            var rng = Random(streamSeed(seed, v.name))
            return (0..<n).map { _ in Float((rng.unit() * 2 - 1) * limit) }
        case "gamma", "moving_variance":
            return Array(repeating: 1, count: n)
        default:                                              // bias, beta, moving_mean
            return Array(repeating: 0, count: n)
        }
    }

    static func table(_ e: EmbeddingSpec, seed: UInt64) -> EmbeddingTableValues {
        guard let rows = e.rows else { return .keyValue(dim: e.dim, keys: [], values: []) }
        let std = 1 / Double(max(e.dim, 1)).squareRoot()
        return .fixed(rows: rows, dim: e.dim,
                      values: truncatedNormal(count: rows * e.dim, stddev: std, seed: streamSeed(seed, e.name)))
    }
}
