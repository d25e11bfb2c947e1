import Config
import FG

/// Builds a ``ModelSpec`` from an EasyRec pipeline config (the model the processor and the
/// trainer both build), and converts feature configs into ``FeatureColumnSpec``s.
extension ModelSpec {
    /// The DeepFM of `config`: columns are the features named by the wide and deep groups, in
    /// feature-config order; names, ids and shapes come from ``make(columns:wideFeatures:deepFeatures:wideOutputDim:dnnHidden:finalDnnHidden:dnnUseBN:finalDnnUseBN:l2Regularization:embeddingRegularization:)``.
    public init(config: PipelineConfig) throws(ModelSpecError) {
        let wideNames = config.wideFeatureNames
        let deepNames = config.deepFeatureNames
        let used = Set(wideNames + deepNames)
        var columns: [FeatureColumnSpec] = []
        var index: [String: Int] = [:]
        for fc in config.allFeatureConfigs where used.contains(fc.resolvedName) && index[fc.resolvedName] == nil {
            index[fc.resolvedName] = columns.count
            columns.append(try FeatureColumnSpec(config: fc))
        }
        func indices(_ names: [String], _ group: String) throws(ModelSpecError) -> [Int] {
            var out: [Int] = []
            for n in names {
                guard let i = index[n] else { throw .invalid("feature group \(group): feature \(n) has no feature config") }
                out.append(i)
            }
            return out
        }
        let deepfm = config.deepFM
        self = try ModelSpec.make(
            columns: columns, wideFeatures: try indices(wideNames, "wide"), deepFeatures: try indices(deepNames, "deep"),
            wideOutputDim: Int(deepfm.wideOutputDim), dnnHidden: deepfm.dnn.hiddenUnits.map { Int($0) },
            finalDnnHidden: deepfm.hasFinalDnn ? deepfm.finalDnn.hiddenUnits.map { Int($0) } : nil,
            dnnUseBN: deepfm.dnn.useBn, finalDnnUseBN: deepfm.hasFinalDnn ? deepfm.finalDnn.useBn : true,
            l2Regularization: deepfm.l2Regularization,
            embeddingRegularization: config.proto.modelConfig.embeddingRegularization)
    }
}

extension FeatureColumnSpec {
    /// The column of one EasyRec feature config (fg.md section 4 / EasyRec's FeatureColumnParser):
    /// ev_params -> key-value; Id/Tag/Lookup: hash_bucket_size, vocab_list (an unknown value takes
    /// row 0: EasyRec builds the column with `default_value=0`) or num_buckets;
    /// Raw: boundaries (sorted), num_buckets over [min_val, max_val] normalized to [0,1), or raw
    /// projection of `raw_input_dim` rows; Combo: crossed hash.
    public init(config fc: EasyRec_FeatureConfig) throws(ModelSpecError) {
        let name = fc.resolvedName
        let kind: Kind
        if fc.hasEvParams {
            kind = .keyValue
        } else {
            switch fc.featureType {
            case .idFeature, .tagFeature, .lookupFeature:
                if fc.hashBucketSize > 0 {
                    kind = .hashed(bucketSize: Int(clamping: fc.hashBucketSize))
                } else if !fc.vocabList.isEmpty {
                    kind = .vocabulary(fc.vocabList)
                } else if fc.numBuckets > 0 {
                    kind = .identity(numBuckets: Int(clamping: fc.numBuckets))
                } else {
                    throw .invalid("feature \(name): needs hash_bucket_size, vocab_list, num_buckets or ev_params")
                }
            case .rawFeature:
                if !fc.boundaries.isEmpty {
                    kind = .boundaries(fc.boundaries.sorted())
                } else if fc.numBuckets > 1 && fc.maxVal > fc.minVal {
                    let n = Int(clamping: fc.numBuckets)
                    kind = .boundaries((0..<n).map { Double($0) / Double(n) })
                } else {
                    kind = .raw(dimension: Int(max(1, fc.rawInputDim)))
                }
            case .comboFeature:
                guard fc.hashBucketSize > 0 else { throw .invalid("feature \(name): ComboFeature needs hash_bucket_size") }
                kind = .combo(bucketSize: Int(clamping: fc.hashBucketSize))
            case .sequenceFeature:
                throw .invalid("feature \(name): SequenceFeature is not supported by DeepFM here")
            }
        }
        guard let combiner = Combiner(rawValue: fc.combiner) else {
            throw .invalid("feature \(name): combiner \(fc.combiner) is not sum, mean or sqrtn")
        }
        self.init(name: name, inputNames: fc.inputNames.isEmpty ? [name] : fc.inputNames, kind: kind,
                  embeddingDim: Int(fc.embeddingDim), combiner: combiner, separator: fc.separator,
                  embeddingName: fc.hasEmbeddingName ? fc.embeddingName : nil,
                  kvSeparator: fc.hasKvSeparator ? fc.kvSeparator : nil,
                  unknownVocabularyRow: fc.vocabList.isEmpty || fc.hashBucketSize > 0 ? nil : 0)
    }
}
