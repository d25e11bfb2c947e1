/// How one model feature turns its input values into embedding rows (fg.md section 4).
///
/// This is the contract between feature generation and the model: `FG` encodes request or
/// sample values into an ``EncodedBatch`` following these specs, and `Inference`/`Trainer`
/// look the ids up in the feature's embedding tables.
public struct FeatureColumnSpec: Sendable, Equatable {
    /// How values become row ids of the feature's embedding table.
    public enum Kind: Sendable, Equatable {
        /// `Fingerprint64(utf8) mod bucketSize` (IdFeature/TagFeature with `hash_bucket_size`).
        case hashed(bucketSize: Int)
        /// The value is already an integer id in `0..<numBuckets` (out of range: dropped).
        case identity(numBuckets: Int)
        /// A float bucketized by `#{b : b <= x}`; `boundaries.count + 1` rows.
        case boundaries([Double])
        /// Raw values without boundaries: row k weighted by value k; `dimension` rows.
        case raw(dimension: Int)
        /// Key-value table (`use_embedding_variable` / `ev_params`): key = Fingerprint64 mod (2^63-1).
        case keyValue
        /// Crossed column over several inputs (TensorFlow's FingerprintCat64 hash) mod bucketSize.
        case combo(bucketSize: Int)
        /// Vocabulary lookup: index in `vocab`; unknown values dropped.
        case vocabulary([String])
    }

    /// Embedding combiner over several ids of one item.
    public enum Combiner: String, Sendable, Equatable {
        case sum, mean, sqrtn
    }

    /// Model-side feature name (`feature_name`, or `input_names[0]` when absent).
    public var name: String
    /// The input fields (FG outputs, or raw request fields in bypass mode) this column reads.
    public var inputNames: [String]
    public var kind: Kind
    /// Width of the deep/FM embedding.
    public var embeddingDim: Int
    public var combiner: Combiner
    /// Separator of multi-values inside one string input (TagFeature `separator`, default "|").
    public var separator: String
    /// Shared embedding name (`embedding_name` / fg.json `shared_name`), if any.
    public var embeddingName: String?
    /// Weighted ids (`kv_separator`): a value `id<kv>weight` carries its weight. Added by FG.
    public var kvSeparator: String?
    /// Row of a value missing from a vocabulary (EasyRec's `vocab_list` column has
    /// `default_value=0`); nil drops it.
    public var unknownVocabularyRow: Int?

    public init(name: String, inputNames: [String], kind: Kind, embeddingDim: Int,
                combiner: Combiner = .sum, separator: String = "|", embeddingName: String? = nil,
                kvSeparator: String? = nil, unknownVocabularyRow: Int? = nil) {
        self.name = name
        self.inputNames = inputNames
        self.kind = kind
        self.embeddingDim = embeddingDim
        self.combiner = combiner
        self.separator = separator
        self.embeddingName = embeddingName
        self.kvSeparator = kvSeparator
        self.unknownVocabularyRow = unknownVocabularyRow
    }

    /// Rows of the fixed-size table; nil for a key-value table that grows.
    public var rows: Int? {
        switch kind {
        case .hashed(let n), .identity(let n), .combo(let n): return n
        case .boundaries(let b): return b.count + 1
        case .raw(let d): return d
        case .vocabulary(let v): return v.count
        case .keyValue: return nil
        }
    }
}
