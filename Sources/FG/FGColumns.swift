/// EasyRec `FeatureConfig.feature_type` of a column derived from fg.json (fg.md section 4).
public enum EasyRecFeatureType: String, Sendable, Equatable {
    case idFeature = "IdFeature"
    case rawFeature = "RawFeature"
    case tagFeature = "TagFeature"
    case comboFeature = "ComboFeature"
    case lookupFeature = "LookupFeature"
    case sequenceFeature = "SequenceFeature"
}

/// EasyRec `DatasetConfig.Field.input_type` of the input field feeding a column.
public enum EasyRecInputType: String, Sendable, Equatable {
    case int32 = "INT32", int64 = "INT64", string = "STRING", float = "FLOAT", double = "DOUBLE", bool = "BOOL"
}

/// What an exporter needs to write the pipeline `feature_config` and `input_fields` of one
/// column derived from fg.json.
public struct FGColumnDescriptor: Sendable, Equatable {
    public var spec: FeatureColumnSpec
    public var featureType: EasyRecFeatureType
    /// For `SequenceFeature`: the sub-feature type (IdFeature or RawFeature).
    public var subFeatureType: EasyRecFeatureType?
    /// The input field this column creates (nil for a ComboFeature over other columns' inputs).
    public var inputField: String?
    public var inputType: EasyRecInputType
    public var defaultValue: String
    /// `raw_input_dim` when a raw value has several dimensions.
    public var rawInputDim: Int?
    /// fg.json `group`, if any.
    public var group: String?
}

extension FGConfig {
    /// Feature columns of this fg.json, one per FG output (fg.json order), plus the ComboFeatures
    /// requested by `extra_combo_info`.
    public func columnSpecs() throws(FGError) -> [FeatureColumnSpec] {
        try columnDescriptors().map(\.spec)
    }

    /// Columns with their EasyRec feature/input types (for writing pipeline feature configs).
    public func columnDescriptors() throws(FGError) -> [FGColumnDescriptor] {
        var out: [FGColumnDescriptor] = []
        for f in features {
            out.append(try Self.descriptor(f))
            if let e = f.training.extraCombo {
                guard let combiner = FeatureColumnSpec.Combiner(rawValue: e.combiner) else {
                    throw .invalidField(feature: f.name, field: "extra_combo_info.combiner", reason: "expected sum, mean or sqrtn")
                }
                let spec = FeatureColumnSpec(name: e.name, inputNames: e.inputNames, kind: .combo(bucketSize: e.hashBucketSize),
                                             embeddingDim: e.embeddingDim, combiner: combiner, separator: "\u{03}")
                out.append(FGColumnDescriptor(spec: spec, featureType: .comboFeature, subFeatureType: nil, inputField: nil,
                                              inputType: .string, defaultValue: "", rawInputDim: nil, group: f.training.group))
            }
        }
        var names = Set<String>()
        for d in out where !names.insert(d.spec.name).inserted { throw .duplicateFeature(d.spec.name) }
        return out
    }

    /// The table kind of a discrete column: hash_bucket_size, vocab_list or num_buckets
    /// (EasyRec's order), key-value with use_embedding_variable.
    static func discreteKind(_ f: FGFeature) throws(FGError) -> FeatureColumnSpec.Kind {
        let t = f.training
        if let n = t.hashBucketSize { return t.useEmbeddingVariable ? .keyValue : .hashed(bucketSize: n) }
        if t.useEmbeddingVariable { return .keyValue }
        if let v = t.vocabList {
            guard !v.isEmpty else { throw .invalidField(feature: f.name, field: "vocab_list", reason: "is empty") }
            return .vocabulary(v)
        }
        if let n = t.numBuckets { return .identity(numBuckets: n) }
        throw .missingField(feature: f.name, field: "hash_bucket_size")
    }

    static func descriptor(_ f: FGFeature) throws(FGError) -> FGColumnDescriptor {
        let t = f.training
        guard let combiner = FeatureColumnSpec.Combiner(rawValue: t.combiner) else {
            throw .invalidField(feature: f.name, field: "combiner", reason: "expected sum, mean or sqrtn")
        }
        var d = FGColumnDescriptor(
            spec: FeatureColumnSpec(name: f.name, inputNames: [f.name], kind: .raw(dimension: 1), embeddingDim: t.embeddingDim,
                                    combiner: combiner, separator: "\u{03}", embeddingName: t.sharedName),
            featureType: .idFeature, subFeatureType: nil, inputField: f.name, inputType: .string,
            defaultValue: "", rawInputDim: nil, group: t.group)
        func rawColumn() {
            if let b = f.bucketizeBoundaries {
                d.spec.kind = .identity(numBuckets: b.count + 1)
                d.featureType = t.isMulti ? .tagFeature : .idFeature
                d.inputType = t.isMulti ? .string : .int32
                d.defaultValue = "0"
            } else {
                d.featureType = .rawFeature
                d.defaultValue = f.defaultValue ?? "0.0"
                d.inputType = f.valueDimension > 1 ? .string : .double
                d.rawInputDim = f.valueDimension > 1 ? f.valueDimension : nil
                if let b = t.boundaries {
                    d.spec.kind = .boundaries(b)
                } else {
                    d.spec.kind = .raw(dimension: f.valueDimension)
                }
            }
        }
        if f.sequence != nil {
            d.featureType = .sequenceFeature
            if f.type == .raw {
                d.subFeatureType = .rawFeature
                d.defaultValue = f.defaultValue ?? "0.0"
                d.spec.kind = t.boundaries.map { .boundaries($0) } ?? .raw(dimension: f.valueDimension)
            } else {
                d.subFeatureType = .idFeature
                d.spec.kind = try discreteKind(f)
            }
            return d
        }
        switch f.type {
        case .id:
            d.featureType = t.isMulti ? .tagFeature : .idFeature
            d.spec.kind = try discreteKind(f)
        case .raw:
            rawColumn()
        case .combo:
            d.featureType = .tagFeature
            d.spec.kind = try discreteKind(f)
        case .lookup, .match:
            if f.needDiscrete {
                d.featureType = .tagFeature
                d.spec.kind = try discreteKind(f)
                if f.outputsWeights { d.spec.kvSeparator = ":" }
            } else {
                rawColumn()
            }
        case .overlap:
            let divided = f.overlapMethod == .commonWordDivided || f.overlapMethod == .diffWordDivided
            d.featureType = divided ? .tagFeature : .idFeature
            d.spec.kind = try discreteKind(f)
        }
        return d
    }
}
