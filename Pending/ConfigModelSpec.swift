import Config
import FG
import Inference

/// Builds the DeepFM ``ModelSpec`` of a pipeline config: feature configs become feature columns
/// (fg.md section 4), the wide/deep groups pick them, and `deepfm` gives the layers.
enum ConfigModelSpec {
    static func make(_ pipeline: PipelineConfig) throws -> ModelSpec {
        let proto = pipeline.proto
        guard proto.modelConfig.modelClass == "DeepFM" else {
            throw TrainerError.config(field: "model_config.model_class", reason: "only DeepFM is supported, got \"\(proto.modelConfig.modelClass)\"")
        }
        let features = pipeline.allFeatureConfigs
        var columns: [FeatureColumnSpec] = []
        var index: [String: Int] = [:]
        func column(_ name: String, group: String) throws -> Int {
            if let i = index[name] { return i }
            guard let fc = features.first(where: { $0.resolvedName == name }) else {
                throw TrainerError.config(field: "model_config.feature_groups[\(group)]", reason: "feature \(name) has no feature_config")
            }
            columns.append(try spec(fc))
            index[name] = columns.count - 1
            return columns.count - 1
        }
        var wide: [Int] = []
        var deep: [Int] = []
        for g in proto.modelConfig.featureGroups {
            for n in g.featureNames {
                switch g.wideDeep {
                case .wide: wide.append(try column(n, group: g.groupName))
                case .deep: deep.append(try column(n, group: g.groupName))
                default:
                    let i = try column(n, group: g.groupName)
                    wide.append(i)
                    deep.append(i)
                }
            }
        }
        let d = proto.modelConfig.deepfm
        do {
            return try ModelSpec.make(columns: columns, wideFeatures: wide, deepFeatures: deep,
                                      wideOutputDim: Int(d.wideOutputDim), dnnHidden: d.dnn.hiddenUnits.map(Int.init),
                                      finalDnnHidden: d.hasFinalDnn ? d.finalDnn.hiddenUnits.map(Int.init) : nil,
                                      dnnUseBN: d.dnn.useBn, finalDnnUseBN: d.finalDnn.useBn,
                                      l2Regularization: d.l2Regularization,
                                      embeddingRegularization: proto.modelConfig.embeddingRegularization)
        } catch {
            throw TrainerError.config(field: "model_config", reason: "\(error)")
        }
    }

    static func spec(_ fc: EasyRec_FeatureConfig) throws -> FeatureColumnSpec {
        let name = fc.resolvedName
        let field = "feature_config[\(name)]"
        guard !fc.inputNames.isEmpty else { throw TrainerError.config(field: field + ".input_names", reason: "empty") }
        guard fc.embeddingDim > 0 else { throw TrainerError.config(field: field + ".embedding_dim", reason: "must be positive") }
        let kind: FeatureColumnSpec.Kind
        switch fc.featureType {
        case .rawFeature:
            kind = fc.boundaries.isEmpty ? .raw(dimension: max(1, Int(fc.rawInputDim))) : .boundaries(fc.boundaries)
        case .comboFeature:
            guard fc.hashBucketSize > 0 else { throw TrainerError.config(field: field + ".hash_bucket_size", reason: "ComboFeature needs it") }
            kind = .combo(bucketSize: Int(fc.hashBucketSize))
        case .lookupFeature:
            throw TrainerError.config(field: field + ".feature_type", reason: "LookupFeature is not supported in pipeline feature configs")
        default:
            if fc.isKeyValue {
                kind = .keyValue
            } else if fc.hashBucketSize > 0 {
                kind = .hashed(bucketSize: Int(fc.hashBucketSize))
            } else if fc.numBuckets > 0 {
                kind = .identity(numBuckets: Int(fc.numBuckets))
            } else if !fc.vocabList.isEmpty {
                kind = .vocabulary(fc.vocabList)
            } else if !fc.boundaries.isEmpty {
                kind = .boundaries(fc.boundaries)
            } else {
                throw TrainerError.config(field: field, reason: "needs hash_bucket_size, num_buckets, vocab_list or ev_params")
            }
        }
        let combiner = FeatureColumnSpec.Combiner(rawValue: fc.combiner) ?? .sum
        return FeatureColumnSpec(name: name, inputNames: fc.inputNames, kind: kind, embeddingDim: Int(fc.embeddingDim),
                                 combiner: combiner, separator: fc.separator,
                                 embeddingName: fc.embeddingName.isEmpty ? nil : fc.embeddingName,
                                 kvSeparator: fc.kvSeparator.isEmpty ? nil : fc.kvSeparator)
    }
}
