/// Why a model could not be built, restored, or fed a batch. Every case names what was wrong.
public enum TrainerModelError: Error, Equatable, CustomStringConvertible {
    /// A dense variable the DeepFM structure needs is absent from the spec.
    case missingDenseVariable(name: String)
    /// A dense variable exists with another shape than the structure implies.
    case denseShapeMismatch(name: String, expected: [Int], found: [Int])
    /// No embedding table for a feature of the wide or deep group.
    case missingEmbedding(feature: String, part: String)
    /// The table's width does not fit its part (wide_output_dim / embedding dim).
    case embeddingDimMismatch(name: String, expected: Int, found: Int)
    /// The spec itself is inconsistent (e.g. a group index outside the columns).
    case invalidSpec(String)
    /// Parameter values do not fit the spec.
    case parameterMismatch(name: String, detail: String)
    /// A batch that cannot be trained on / predicted.
    case invalidBatch(String)
    /// Optimizer checkpoint state that does not fit this model and optimizer.
    case optimizerState(name: String, detail: String)

    public var description: String {
        switch self {
        case .missingDenseVariable(let n): return "dense variable '\(n)' missing from the model spec"
        case .denseShapeMismatch(let n, let e, let f): return "dense variable '\(n)' has shape \(f), expected \(e)"
        case .missingEmbedding(let f, let p): return "no \(p) embedding table for feature '\(f)'"
        case .embeddingDimMismatch(let n, let e, let f): return "embedding '\(n)' has dim \(f), expected \(e)"
        case .invalidSpec(let s): return "invalid model spec: \(s)"
        case .parameterMismatch(let n, let d): return "parameters for '\(n)': \(d)"
        case .invalidBatch(let s): return "invalid batch: \(s)"
        case .optimizerState(let n, let d): return "optimizer state '\(n)': \(d)"
        }
    }
}
