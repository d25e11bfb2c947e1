/// All parameter values of a model as plain owned arrays: what an export holds, what the
/// trainer checkpoints, and what a processor's ``ParameterStore`` starts from.
public struct ModelParameters: Sendable, Equatable {
    /// Dense variable values indexed by ``DenseVariableSpec/id``, row-major, `elementCount` floats each.
    public var dense: [[Float]]
    /// Embedding tables indexed by ``EmbeddingSpec/id``.
    public var tables: [EmbeddingTableValues]

    public init(dense: [[Float]], tables: [EmbeddingTableValues]) {
        self.dense = dense
        self.tables = tables
    }
}

/// Values of one embedding table.
public enum EmbeddingTableValues: Sendable, Equatable {
    /// Fixed table: `rows * dim` floats, row-major.
    case fixed(rows: Int, dim: Int, values: [Float])
    /// Key-value table: `keys.count * dim` floats, row i belongs to `keys[i]`.
    case keyValue(dim: Int, keys: [Int64], values: [Float])

    public var dim: Int {
        switch self {
        case .fixed(_, let d, _), .keyValue(let d, _, _): return d
        }
    }
}
