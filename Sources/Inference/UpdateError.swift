/// Why an update message was rejected (formats.md 1.3). A rejected message changes nothing.
public enum UpdateError: Error, Equatable, CustomStringConvertible {
    /// Fewer bytes than the fixed header, or than the `n` entries it announces.
    case truncatedHeader(needed: Int, got: Int)
    /// Fewer body bytes than the header announces (dense).
    case truncatedBody(needed: Int, got: Int)
    /// More bytes than the header announces (dense).
    case trailingBytes(expected: Int, got: Int)
    /// `kind` is not 0 (dense) or 1 (sparse).
    case badKind(Int32)
    /// `n` (variables or blocks) negative or over the configured maximum.
    case badCount(Int32, max: Int)
    case unknownVariable(id: Int32)
    case unknownEmbedding(id: Int32)
    /// Dense `num_elements` (or value count) differs from the variable's shape.
    case elementCountMismatch(variable: String, expected: Int, got: Int)
    /// Sparse `num_keys` negative, or value count not `keys * dim`.
    case badBlock(embedding: String, reason: String)
    /// Fixed-table key `< 0` or `>= rows`.
    case keyOutOfRange(embedding: String, key: Int64, rows: Int)
    /// NaN or infinite value (rejected unless ``UpdateOptions/allowNonFinite``).
    case nonFinite(parameter: String, index: Int)
    /// Sparse body length fits neither 8-byte nor 4-byte keys.
    case keyWidthMismatch(bodyBytes: Int, withInt64Keys: Int, withInt32Keys: Int)

    public var description: String {
        switch self {
        case .truncatedHeader(let n, let g): return "truncated header: needs \(n) bytes, message has \(g)"
        case .truncatedBody(let n, let g): return "truncated body: needs \(n) bytes, message has \(g)"
        case .trailingBytes(let e, let g): return "trailing bytes: message should be \(e) bytes, has \(g)"
        case .badKind(let k): return "kind \(k) is neither 0 (dense) nor 1 (sparse)"
        case .badCount(let n, let m): return "count n = \(n) is negative or above \(m)"
        case .unknownVariable(let id): return "unknown dense var_id \(id)"
        case .unknownEmbedding(let id): return "unknown embed_id \(id)"
        case .elementCountMismatch(let v, let e, let g): return "variable \(v): num_elements \(g), shape needs \(e)"
        case .badBlock(let e, let r): return "embedding \(e): \(r)"
        case .keyOutOfRange(let e, let k, let r): return "embedding \(e): key \(k) outside 0..<\(r)"
        case .nonFinite(let p, let i): return "\(p): value \(i) is NaN or infinite"
        case .keyWidthMismatch(let b, let e8, let e4):
            return "sparse body is \(b) bytes: int64 keys need \(e8), int32 keys need \(e4)"
        }
    }

    /// Short machine-friendly reason (metrics label).
    public var reason: String {
        switch self {
        case .truncatedHeader: return "truncated_header"
        case .truncatedBody: return "truncated_body"
        case .trailingBytes: return "trailing_bytes"
        case .badKind: return "bad_kind"
        case .badCount: return "bad_count"
        case .unknownVariable: return "unknown_var_id"
        case .unknownEmbedding: return "unknown_embed_id"
        case .elementCountMismatch: return "num_elements_mismatch"
        case .badBlock: return "bad_block"
        case .keyOutOfRange: return "key_out_of_range"
        case .nonFinite: return "non_finite"
        case .keyWidthMismatch: return "key_width_mismatch"
        }
    }
}

/// Validation knobs for decoding and applying updates.
public struct UpdateOptions: Sendable, Equatable {
    /// Accept NaN/Inf values (default: reject the message).
    public var allowNonFinite: Bool
    /// Largest accepted `n` (variables or blocks per message).
    public var maxCount: Int

    public init(allowNonFinite: Bool = false, maxCount: Int = 1 << 20) {
        self.allowNonFinite = allowNonFinite
        self.maxCount = maxCount
    }
}
