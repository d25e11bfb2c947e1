/// Why a batch could not be scored.
public enum PredictError: Error, Equatable, CustomStringConvertible {
    /// The batch has a different number of columns than the spec.
    case columnCount(expected: Int, got: Int)
    /// A column's CSR arrays are inconsistent (offsets/ids/weights).
    case malformedColumn(feature: String, reason: String)
    /// A fixed-table id outside `0..<rows`.
    case idOutOfRange(feature: String, id: Int64, rows: Int)
    /// The store's dense variables do not form a DeepFM network for this spec.
    case modelIncomplete(String)
    /// The store was built for a different spec.
    case specMismatch

    public var description: String {
        switch self {
        case .columnCount(let e, let g): return "batch has \(g) feature columns, model expects \(e)"
        case .malformedColumn(let f, let r): return "feature \(f): \(r)"
        case .idOutOfRange(let f, let id, let rows): return "feature \(f): id \(id) outside 0..<\(rows)"
        case .modelIncomplete(let s): return "model incomplete: \(s)"
        case .specMismatch: return "parameter store was built for a different model spec"
        }
    }
}
