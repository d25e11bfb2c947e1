import TensorFlowIO

/// An EasyRec export or checkpoint odl cannot use; names the file, variable or setting at fault.
public enum EasyRecError: Error, CustomStringConvertible {
    /// A TensorFlow file (SavedModel, checkpoint) cannot be read.
    case tensorFlow(TensorFlowIOError)
    /// A required file is missing.
    case missingFile(String)
    /// The pipeline config cannot be loaded or built into a model.
    case config(path: String, reason: String)
    /// The model is not a DeepFM.
    case unsupportedModel(path: String, modelClass: String)
    /// A checkpoint variable odl cannot place in its DeepFM.
    case unplacedVariable(bundle: String, name: String, shape: [Int])
    /// A variable the model needs is absent from the checkpoint.
    case missingVariable(bundle: String, name: String, odlName: String)
    /// A variable has a different shape than the model config implies.
    case shapeMismatch(bundle: String, name: String, expected: [Int], found: [Int])
    /// A file of the export (ids, update config) is malformed.
    case badFile(path: String, reason: String)
    /// Writing the converted export failed.
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .tensorFlow(e): return e.description
        case let .missingFile(p): return "\(p): no such file"
        case let .config(p, r): return "\(p): \(r)"
        case let .unsupportedModel(p, m): return "\(p): model_class \(m) is not supported (odl serves DeepFM only)"
        case let .unplacedVariable(b, n, s): return "\(b): variable '\(n)' \(s) has no place in odl's DeepFM"
        case let .missingVariable(b, n, o): return "\(b): no variable '\(n)' (odl's \(o))"
        case let .shapeMismatch(b, n, e, f): return "\(b): variable '\(n)' has shape \(f), the pipeline config implies \(e)"
        case let .badFile(p, r): return "\(p): \(r)"
        case let .write(p, r): return "\(p): cannot write: \(r)"
        }
    }
}
