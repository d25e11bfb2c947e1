import FG

/// Derivation of embedding tables and dense variables (EasyRec names, ids, shapes) from the
/// model's structure. This is the single place where names and ids are decided.
///
/// - Tables: a wide table `input_layer/<base>` (width `wideOutputDim`) per wide feature and a
///   deep table `input_layer_1/<base>` (width `embeddingDim`) per deep feature, where
///   `base = "<feature>_embedding"`. As in EasyRec's FeatureColumnParser, an `embedding_name`
///   used by two or more columns makes them share one table per part: deep
///   `input_layer_1/<embedding_name>`, wide `input_layer/<embedding_name>_wide` (an
///   `embedding_name` used by one column only is ignored). Ids: wide tables in wide-group
///   order, then deep tables in deep-group order (first occurrence).
/// - Dense: `deep_feature/dnn_i/{kernel,bias}` (+ `bn/{gamma,beta,moving_mean,moving_variance}`
///   with BN), `final_dnn/dnn_i/...`, then `output/{kernel,bias}` (with final_dnn) or
///   `deep_logits/{kernel,bias}`. Every `dnn_i` has a bias: EasyRec applies `tf.layers.dense`
///   (with bias) and then batch norm, as deepfm.md step 4 says (`x W + b`, then BN).
extension ModelSpec {
    /// Builds a complete spec from the structure. Throws on inconsistent structure.
    public static func make(columns: [FeatureColumnSpec], wideFeatures: [Int], deepFeatures: [Int],
                            wideOutputDim: Int = 1, dnnHidden: [Int], finalDnnHidden: [Int]?,
                            dnnUseBN: Bool = true, finalDnnUseBN: Bool = true,
                            l2Regularization: Float = 0,
                            embeddingRegularization: Float = 0) throws(ModelSpecError) -> ModelSpec {
        for (group, list) in [("wide", wideFeatures), ("deep", deepFeatures)] {
            var seen = Set<Int>()
            for i in list {
                guard i >= 0 && i < columns.count else {
                    throw .badColumnIndex(group: group, index: i, columnCount: columns.count)
                }
                guard seen.insert(i).inserted else { throw .duplicateFeature(group: group, feature: columns[i].name) }
            }
        }
        guard let firstDeep = deepFeatures.first else { throw .noDeepFeatures }
        let dim = columns[firstDeep].embeddingDim
        guard dim > 0 else { throw .nonPositive(field: "\(columns[firstDeep].name).embedding_dim", value: dim) }
        for i in deepFeatures where columns[i].embeddingDim != dim {
            throw .unequalEmbeddingDims(feature: columns[i].name, dim: columns[i].embeddingDim, expected: dim)
        }
        guard wideOutputDim > 0 else { throw .nonPositive(field: "wide_output_dim", value: wideOutputDim) }
        if finalDnnHidden == nil && wideOutputDim != 1 { throw .wideOutputDimWithoutFinalDNN(wideOutputDim) }
        guard !dnnHidden.isEmpty else { throw .invalid("deepfm.dnn.hidden_units is empty") }
        for (i, u) in dnnHidden.enumerated() where u <= 0 { throw .nonPositive(field: "dnn.hidden_units[\(i)]", value: u) }
        for (i, u) in (finalDnnHidden ?? []).enumerated() where u <= 0 {
            throw .nonPositive(field: "final_dnn.hidden_units[\(i)]", value: u)
        }
        for c in columns {
            if let r = c.rows, r <= 0 { throw .nonPositive(field: "\(c.name) rows", value: r) }
        }

        var embeddings: [EmbeddingSpec] = []
        var byName: [String: Int] = [:]
        for (part, list, width) in [(EmbeddingSpec.Part.wide, wideFeatures, wideOutputDim),
                                    (.deep, deepFeatures, dim)] {
            for i in list {
                let name = tableName(columns: columns, column: i, part: part)
                if let existing = byName[name] {
                    if embeddings[existing].rows != columns[i].rows || embeddings[existing].dim != width {
                        throw .sharedTableMismatch(table: name, feature: columns[i].name)
                    }
                    continue
                }
                byName[name] = embeddings.count
                embeddings.append(EmbeddingSpec(id: embeddings.count, name: name, dim: width,
                                                rows: columns[i].rows, part: part, column: i))
            }
        }

        var dense: [DenseVariableSpec] = []
        func add(_ name: String, _ shape: [Int]) {
            dense.append(DenseVariableSpec(id: dense.count, name: name, shape: shape))
        }
        func addDNN(_ scope: String, input: Int, hidden: [Int], bn: Bool) -> Int {
            var width = input
            for (i, units) in hidden.enumerated() {
                add("\(scope)/dnn_\(i)/kernel", [width, units])
                add("\(scope)/dnn_\(i)/bias", [units])
                if bn {
                    for v in ["gamma", "beta", "moving_mean", "moving_variance"] {
                        add("\(scope)/dnn_\(i)/bn/\(v)", [units])
                    }
                }
                width = units
            }
            return width
        }
        let deepOut = addDNN("deep_feature", input: deepFeatures.count * dim, hidden: dnnHidden, bn: dnnUseBN)
        if let fh = finalDnnHidden {
            let out = addDNN("final_dnn", input: 1 + dim + deepOut, hidden: fh, bn: finalDnnUseBN)
            add("output/kernel", [out, 1])
            add("output/bias", [1])
        } else {
            add("deep_logits/kernel", [deepOut, 1])
            add("deep_logits/bias", [1])
        }
        return ModelSpec(columns: columns, wideFeatures: wideFeatures, deepFeatures: deepFeatures,
                         embeddings: embeddings, denseVariables: dense, wideOutputDim: wideOutputDim,
                         embeddingDim: dim, dnnHidden: dnnHidden, finalDnnHidden: finalDnnHidden,
                         dnnUseBN: dnnUseBN, finalDnnUseBN: finalDnnUseBN,
                         l2Regularization: l2Regularization, embeddingRegularization: embeddingRegularization)
    }

    /// Normalized table name of `columns[column]` in `part` (see the type comment for sharing).
    public static func tableName(columns: [FeatureColumnSpec], column: Int, part: EmbeddingSpec.Part) -> String {
        let c = columns[column]
        if let shared = c.embeddingName, columns.filter({ $0.embeddingName == shared }).count >= 2 {
            return part == .wide ? "input_layer/\(shared)_wide" : "input_layer_1/\(shared)"
        }
        return (part == .wide ? "input_layer/" : "input_layer_1/") + "\(c.name)_embedding"
    }

    /// Id of the embedding table called `name`.
    public func embeddingId(named name: String) -> Int? {
        embeddings.first { $0.name == name }?.id
    }

    /// Id of the dense variable called `name`.
    public func denseVariableId(named name: String) -> Int? {
        denseVariables.first { $0.name == name }?.id
    }

    /// Table id read by column `column` in `part`; nil when the column is not in that group.
    public func tableId(column: Int, part: EmbeddingSpec.Part) -> Int? {
        let group = part == .wide ? wideFeatures : deepFeatures
        guard group.contains(column), column >= 0, column < columns.count else { return nil }
        return embeddingId(named: ModelSpec.tableName(columns: columns, column: column, part: part))
    }

    /// The dense variable ids of one DNN layer (bn ids nil without batch norm).
    struct LayerIds: Sendable {
        var kernel: Int, bias: Int
        var gamma: Int?, beta: Int?, mean: Int?, variance: Int?
    }

    /// Layer ids of `deep_feature` or `final_dnn`, in layer order. Throws naming a missing variable.
    func layerIds(scope: String, count: Int, bn: Bool) throws(ModelSpecError) -> [LayerIds] {
        var out: [LayerIds] = []
        for i in 0..<count {
            func id(_ suffix: String) throws(ModelSpecError) -> Int {
                let n = "\(scope)/dnn_\(i)/\(suffix)"
                guard let v = denseVariableId(named: n) else { throw .invalid("dense variable \(n) missing from the spec") }
                return v
            }
            var l = LayerIds(kernel: try id("kernel"), bias: try id("bias"))
            if bn {
                l.gamma = try id("bn/gamma"); l.beta = try id("bn/beta")
                l.mean = try id("bn/moving_mean"); l.variance = try id("bn/moving_variance")
            }
            out.append(l)
        }
        return out
    }
}

extension ModelSpec {
    /// An empty spec: the starting value for signature helpers that fill it in.
    package static let empty = ModelSpec(columns: [], wideFeatures: [], deepFeatures: [], embeddings: [], denseVariables: [],
                                 wideOutputDim: 1, embeddingDim: 0, dnnHidden: [], finalDnnHidden: nil)
}
