/// Why parameters do not fit a ``ModelSpec`` (building a ``ParameterStore``).
public enum ParameterStoreError: Error, Equatable, CustomStringConvertible {
    case denseCount(expected: Int, got: Int)
    case denseSize(variable: String, expected: Int, got: Int)
    case tableCount(expected: Int, got: Int)
    /// Fixed table given for a key-value embedding or the reverse.
    case tableKind(embedding: String, expectedKeyValue: Bool)
    case tableSize(embedding: String, expected: String, got: String)

    public var description: String {
        switch self {
        case .denseCount(let e, let g): return "expected \(e) dense variables, got \(g)"
        case .denseSize(let v, let e, let g): return "dense variable \(v): expected \(e) values, got \(g)"
        case .tableCount(let e, let g): return "expected \(e) embedding tables, got \(g)"
        case .tableKind(let n, let kv): return "embedding \(n): expected a \(kv ? "key-value" : "fixed-size") table"
        case .tableSize(let n, let e, let g): return "embedding \(n): expected \(e), got \(g)"
        }
    }
}
