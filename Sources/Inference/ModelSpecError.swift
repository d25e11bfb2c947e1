/// Why a ``ModelSpec`` cannot be built or does not fit what was given to it.
public enum ModelSpecError: Error, Equatable, CustomStringConvertible {
    /// A group refers to a column index that does not exist.
    case badColumnIndex(group: String, index: Int, columnCount: Int)
    /// The deep group is empty (DeepFM needs FM + DNN inputs).
    case noDeepFeatures
    /// Deep features must share one embedding width (FM needs equal widths).
    case unequalEmbeddingDims(feature: String, dim: Int, expected: Int)
    /// A width or layer size is not positive.
    case nonPositive(field: String, value: Int)
    /// Two features share a table name but disagree on rows or width.
    case sharedTableMismatch(table: String, feature: String)
    /// Without `final_dnn`, logits = wide + ...: wide must be one unit wide.
    case wideOutputDimWithoutFinalDNN(Int)
    /// The same feature listed twice in one group.
    case duplicateFeature(group: String, feature: String)
    /// Something else inconsistent, with context.
    case invalid(String)

    public var description: String {
        switch self {
        case .badColumnIndex(let g, let i, let n): return "feature group \(g): column index \(i) out of range (\(n) columns)"
        case .noDeepFeatures: return "DeepFM needs at least one feature in the deep group"
        case .unequalEmbeddingDims(let f, let d, let e): return "deep feature \(f): embedding_dim \(d) differs from \(e) (FM needs equal widths)"
        case .nonPositive(let f, let v): return "\(f) must be positive, got \(v)"
        case .sharedTableMismatch(let t, let f): return "feature \(f): shared embedding \(t) has different rows or width than its first user"
        case .wideOutputDimWithoutFinalDNN(let d): return "wide_output_dim \(d) requires final_dnn (without it logits add wide [B,1])"
        case .duplicateFeature(let g, let f): return "feature group \(g) lists feature \(f) twice"
        case .invalid(let s): return s
        }
    }
}
