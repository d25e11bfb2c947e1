import ArrayIO
/// Why an export folder could not be read, validated or written. Every case names the path.
public enum ExportError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case badFile(path: String, reason: String)
    /// The folder's contents disagree with the model spec.
    case mismatch(path: String, reason: String)
    case noVersion(path: String)
    case io(path: String, reason: String)
    case http(url: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let p): return "\(p): missing"
        case .badFile(let p, let r): return "\(p): \(r)"
        case .mismatch(let p, let r): return "\(p): does not match the model: \(r)"
        case .noVersion(let p): return "\(p): no numeric version folder and no export files"
        case .io(let p, let r): return "\(p): \(r)"
        case .http(let u, let r): return "\(u): \(r)"
        }
    }

    init(_ e: NpyError) { self = .badFile(path: e.path, reason: e.message) }
    init(_ e: FileIO.Failure) { self = .io(path: e.path, reason: e.message) }
}
