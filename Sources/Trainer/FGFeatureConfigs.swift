import Config
import FG
import Inference

/// Completes a pipeline config from fg.json (fg.md section 4): every FG output the config does
/// not already describe gets a `feature_config` entry and, when missing, a `data_config.input_fields`
/// entry (appended in fg.json order, after the existing fields such as the labels).
enum FGFeatureConfigs {
    static func complete(_ pipeline: inout PipelineConfig, fgJSON: String) throws {
        let fg: FGConfig
        let descriptors: [FGColumnDescriptor]
        do {
            fg = try FGConfig(jsonString: fgJSON)
            descriptors = try fg.columnDescriptors()
        } catch {
            throw TrainerError.config(field: "fg_json_path", reason: "\(error)")
        }
        var proto = pipeline.proto
        let useV1 = !proto.featureConfigs.isEmpty
        var existing = Set((useV1 ? proto.featureConfigs : proto.featureConfig.features).map(\.resolvedName))
        var inputs = Set(proto.dataConfig.inputFields.map(\.inputName))
        for d in descriptors {
            if let field = d.inputField, !inputs.contains(field) {
                var f = EasyRec_DatasetConfig.Field()
                f.inputName = field
                switch d.inputType {
                case .int32: f.inputType = .int32
                case .int64: f.inputType = .int64
                case .float: f.inputType = .float
                case .double: f.inputType = .double
                case .bool: f.inputType = .bool
                case .string: f.inputType = .string
                }
                if !d.defaultValue.isEmpty { f.defaultVal = d.defaultValue }
                proto.dataConfig.inputFields.append(f)
                inputs.insert(field)
            }
            guard !existing.contains(d.spec.name) else { continue }
            let fc = featureConfig(d)
            if useV1 { proto.featureConfigs.append(fc) } else { proto.featureConfig.features.append(fc) }
            existing.insert(d.spec.name)
        }
        pipeline.proto = proto
    }

    static func featureConfig(_ d: FGColumnDescriptor) -> EasyRec_FeatureConfig {
        var fc = EasyRec_FeatureConfig()
        let s = d.spec
        fc.featureName = s.name
        fc.inputNames = s.inputNames
        switch d.featureType {
        case .idFeature: fc.featureType = .idFeature
        case .rawFeature: fc.featureType = .rawFeature
        case .tagFeature: fc.featureType = .tagFeature
        case .comboFeature: fc.featureType = .comboFeature
        case .lookupFeature: fc.featureType = .lookupFeature
        case .sequenceFeature: fc.featureType = .sequenceFeature
        }
        fc.embeddingDim = UInt32(s.embeddingDim)
        if let e = s.embeddingName { fc.embeddingName = e }
        fc.combiner = s.combiner.rawValue
        if s.separator != "|" { fc.separator = s.separator }
        if let kv = s.kvSeparator { fc.kvSeparator = kv }
        if let dim = d.rawInputDim { fc.rawInputDim = UInt32(dim) }
        switch s.kind {
        case .hashed(let n), .combo(let n): fc.hashBucketSize = UInt64(n)
        case .identity(let n): fc.numBuckets = UInt64(n)
        case .boundaries(let b): fc.boundaries = b
        case .raw(let dim): fc.rawInputDim = UInt32(dim)
        case .keyValue: fc.evParams = EasyRec_EVParams()
        case .vocabulary(let v): fc.vocabList = v
        }
        return fc
    }
}

/// Encodes validated sample lines with FG's column encoder: fg-based models read FG outputs
/// (multi-values joined by `\x03`), bypass models read raw fields split like their feature columns.
final class FGBatchEncoder: BatchEncoding {
    let schema: SampleSchema
    let encoder: ColumnEncoder
    let separator: UInt8
    private var features = FeatureBatch()

    init(spec: ModelSpec, layout: SampleLayout, fgBased: Bool) throws {
        guard layout.separator.utf8.count == 1, let sep = layout.separator.utf8.first else {
            throw TrainerError.config(field: "data_config.separator", reason: "must be one byte, got \"\(layout.separator)\"")
        }
        separator = sep
        let names = layout.fields.map(\.name)
        var s = SampleSchema(specs: spec.columns, inputFields: names)
        if fgBased {
            let labels = Set(layout.labelIndices)
            for i in s.fields.indices where !labels.contains(i) {
                s.fields[i].separator = SampleFormat.valueSeparator
            }
        }
        schema = s
        do {
            encoder = try ColumnEncoder(specs: spec.columns, layout: s.names)
        } catch {
            throw TrainerError.config(field: "feature_config", reason: "\(error)")
        }
    }

    func encode(lines: [[UInt8]], into out: inout EncodedBatch) throws {
        try features.loadSamples(lines, fieldSeparator: separator, schema: schema)
        try encoder.encode(features, into: &out)
    }
}
