import FG

/// The DeepFM model's structure: features, embedding tables, dense variables, layers.
///
/// Built from an EasyRec pipeline config (``ModelSpec/init(config:)``, see `ModelSpecBuilder`)
/// or by hand in tests. Everything that must agree between the trainer, the exporter and the
/// processor (variable names and ids, table widths and rows) is derived here, once.
public struct ModelSpec: Sendable, Equatable {
    /// Every feature column the model reads, in encode order (the order of ``EncodedBatch/columns``).
    public var columns: [FeatureColumnSpec]
    /// Indices into ``columns`` of the wide group, in group order.
    public var wideFeatures: [Int]
    /// Indices into ``columns`` of the deep group (FM + DNN), in group order.
    public var deepFeatures: [Int]
    /// Embedding tables, indexed by ``EmbeddingSpec/id`` (ids are 0..<count, the
    /// `embed_name_to_ids.txt` ids).
    public var embeddings: [EmbeddingSpec]
    /// Dense variables, indexed by ``DenseVariableSpec/id`` (the `DENSE_UPDATE_VARIABLES` ids).
    public var denseVariables: [DenseVariableSpec]
    /// Width of wide embeddings (`wide_output_dim`, default 1).
    public var wideOutputDim: Int
    /// Embedding width of deep features (all deep features share it: FM needs equal widths).
    public var embeddingDim: Int
    /// `deepfm.dnn.hidden_units`.
    public var dnnHidden: [Int]
    /// `deepfm.final_dnn.hidden_units`, nil when absent (then `deep_logits` is used).
    public var finalDnnHidden: [Int]?
    /// DNN layers use batch norm (`use_bn`, default true).
    public var dnnUseBN: Bool
    public var finalDnnUseBN: Bool
    /// `deepfm.l2_regularization` on DNN kernels.
    public var l2Regularization: Float
    /// `embedding_regularization` on looked-up embedding outputs.
    public var embeddingRegularization: Float

    public init(columns: [FeatureColumnSpec], wideFeatures: [Int], deepFeatures: [Int],
                embeddings: [EmbeddingSpec], denseVariables: [DenseVariableSpec],
                wideOutputDim: Int, embeddingDim: Int, dnnHidden: [Int], finalDnnHidden: [Int]?,
                dnnUseBN: Bool = true, finalDnnUseBN: Bool = true,
                l2Regularization: Float = 0, embeddingRegularization: Float = 0) {
        self.columns = columns
        self.wideFeatures = wideFeatures
        self.deepFeatures = deepFeatures
        self.embeddings = embeddings
        self.denseVariables = denseVariables
        self.wideOutputDim = wideOutputDim
        self.embeddingDim = embeddingDim
        self.dnnHidden = dnnHidden
        self.finalDnnHidden = finalDnnHidden
        self.dnnUseBN = dnnUseBN
        self.finalDnnUseBN = finalDnnUseBN
        self.l2Regularization = l2Regularization
        self.embeddingRegularization = embeddingRegularization
    }
}

/// One embedding table.
public struct EmbeddingSpec: Sendable, Equatable {
    /// Which part of DeepFM the table feeds.
    public enum Part: String, Sendable, Equatable { case wide, deep }
    /// Id in `embed_name_to_ids.txt` and in sparse update blocks.
    public var id: Int
    /// Normalized name: `input_layer/<f>_embedding` (wide) or `input_layer_1/<f>_embedding` (deep).
    public var name: String
    /// Row width (`wide_output_dim` for wide tables, the feature's `embedding_dim` for deep).
    public var dim: Int
    /// Fixed row count; nil for a key-value table (keys are hashed ids, rows inserted on demand).
    public var rows: Int?
    public var part: Part
    /// Index into ``ModelSpec/columns`` of the feature reading this table.
    public var column: Int

    public init(id: Int, name: String, dim: Int, rows: Int?, part: Part, column: Int) {
        self.id = id
        self.name = name
        self.dim = dim
        self.rows = rows
        self.part = part
        self.column = column
    }

    public var isKeyValue: Bool { rows == nil }
}

/// One dense variable (a DNN kernel, bias, batch-norm parameter or statistic, or the output layer).
public struct DenseVariableSpec: Sendable, Equatable {
    /// Id in `DENSE_UPDATE_VARIABLES` and in dense update messages.
    public var id: Int
    /// EasyRec's name, e.g. `deep_feature/dnn_0/kernel`, `final_dnn/dnn_1/bn/moving_mean`, `output/bias`.
    public var name: String
    /// Row-major shape (`[in, out]` for kernels, `[n]` for vectors).
    public var shape: [Int]

    public init(id: Int, name: String, shape: [Int]) {
        self.id = id
        self.name = name
        self.shape = shape
    }

    public var elementCount: Int { shape.reduce(1, *) }
}
