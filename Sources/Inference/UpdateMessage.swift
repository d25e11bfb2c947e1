/// A decoded, validated incremental update (formats.md section 1). Values are absolute.
public enum UpdateMessage: Sendable, Equatable {
    case dense(DenseUpdate)
    case sparse(SparseUpdate)

    public var globalStep: Int32 {
        switch self {
        case .dense(let d): return d.globalStep
        case .sparse(let s): return s.globalStep
        }
    }
}

/// Dense message: new values of some dense variables.
public struct DenseUpdate: Sendable, Equatable {
    public var globalStep: Int32
    /// (variable id, its full row-major values), in message order.
    public var variables: [(id: Int32, values: [Float])]

    public init(globalStep: Int32, variables: [(id: Int32, values: [Float])]) {
        self.globalStep = globalStep
        self.variables = variables
    }

    public static func == (a: DenseUpdate, b: DenseUpdate) -> Bool {
        a.globalStep == b.globalStep && a.variables.count == b.variables.count
            && zip(a.variables, b.variables).allSatisfy { $0.id == $1.id && $0.values == $1.values }
    }
}

/// Sparse message: new rows of embedding tables.
public struct SparseUpdate: Sendable, Equatable {
    /// One block: rows of one table.
    public struct Block: Sendable, Equatable {
        public var embeddingId: Int32
        /// Row ids (fixed tables) or hashed keys (key-value tables).
        public var keys: [Int64]
        /// `keys.count * dim` floats, row-major.
        public var values: [Float]

        public init(embeddingId: Int32, keys: [Int64], values: [Float]) {
            self.embeddingId = embeddingId
            self.keys = keys
            self.values = values
        }
    }

    public var globalStep: Int32
    public var blocks: [Block]
    /// Key width on the wire (8 by default; 4 for EasyRec's rare int32-key configurations).
    public var keyBytes: Int

    public init(globalStep: Int32, blocks: [Block], keyBytes: Int = 8) {
        self.globalStep = globalStep
        self.blocks = blocks
        self.keyBytes = keyBytes
    }
}

/// What applying one message changed.
public struct ApplyCounts: Sendable, Equatable {
    public var variables: Int
    public var rowsUpdated: Int
    public var rowsInserted: Int

    public init(variables: Int = 0, rowsUpdated: Int = 0, rowsInserted: Int = 0) {
        self.variables = variables
        self.rowsUpdated = rowsUpdated
        self.rowsInserted = rowsInserted
    }
}
