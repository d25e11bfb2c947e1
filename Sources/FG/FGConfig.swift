import Foundation
import JSON

/// A loaded fg.json: the features in file order (sequence sub-features flattened in place),
/// `reserves` and `multi_val_sep` (fg.md section 1).
public struct FGConfig: Sendable, Equatable {
    public var features: [FGFeature]
    public var reserves: [String]
    /// `multi_val_sep` as written (kept for export; FG itself splits inputs on `\u{1d}`).
    public var multiValueSeparator: String
    /// File-level `embedding_dim` (default 16).
    public var embeddingDim: Int

    public init(features: [FGFeature], reserves: [String] = [], multiValueSeparator: String = "\u{1d}",
                embeddingDim: Int = 16) {
        self.features = features
        self.reserves = reserves
        self.multiValueSeparator = multiValueSeparator
        self.embeddingDim = embeddingDim
    }

    /// Output names in fg.json order (the sample field order).
    public var outputNames: [String] { features.map(\.name) }

    /// Load an fg.json file.
    public static func load(path: String) throws(FGError) -> FGConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, reason: "cannot read file")
        }
        return try FGConfig(jsonBytes: [UInt8](data), source: path)
    }

    public init(jsonString: String) throws(FGError) {
        try self.init(jsonBytes: Array(jsonString.utf8), source: "fg.json")
    }

    public init(jsonBytes: [UInt8], source: String = "fg.json") throws(FGError) {
        let root: JSONValue
        do throws(JSONSyntaxError) {
            root = try JSONParser.parse(jsonBytes, maxDepth: 64)
        } catch {
            throw .invalidJSON(source: source, offset: error.offset, reason: error.reason)
        }
        guard case .object = root else { throw .invalidField(feature: "", field: "(root)", reason: "expected a JSON object") }
        let fileDim = try FGConfigReader.int(root, "embedding_dim", feature: "") ?? 16
        guard let featuresValue = root["features"] else { throw .missingField(feature: "", field: "features") }
        guard case .array(let list) = featuresValue else {
            throw .invalidField(feature: "", field: "features", reason: "expected an array")
        }
        var features: [FGFeature] = []
        for (index, entry) in list.enumerated() {
            guard case .object = entry else {
                throw .invalidField(feature: "#\(index)", field: "features", reason: "expected an object")
            }
            if entry["feature_name"] != nil || entry["sequence_name"] == nil {
                features.append(try FGConfigReader.feature(entry, index: index, sequence: nil, fileDim: fileDim))
            } else {
                features.append(contentsOf: try FGConfigReader.sequenceBlock(entry, index: index, fileDim: fileDim))
            }
        }
        var seen = Set<String>()
        for f in features where !seen.insert(f.name).inserted { throw .duplicateFeature(f.name) }
        let reserves = try FGConfigReader.stringList(root, "reserves", feature: "") ?? []
        let sep = try FGConfigReader.string(root, "multi_val_sep", feature: "") ?? "\u{1d}"
        self.init(features: features, reserves: reserves, multiValueSeparator: sep, embeddingDim: fileDim)
    }
}

/// Typed readers of fg.json keys (internal); every error names the feature and the key.
enum FGConfigReader {
    static func string(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> String? {
        guard let v = o[key] else { return nil }
        switch v {
        case .null: return nil
        case .string(let s): return s
        case .number:
            switch v.fgNumber {
            case .int(let i)?: return String(i)
            case .double(let d)?: return String(d)
            case nil: throw .invalidField(feature: feature, field: key, reason: "is not a number literal")
            }
        case .bool(let b): return b ? "true" : "false"
        default: throw .invalidField(feature: feature, field: key, reason: "expected a string, got \(v.typeName)")
        }
    }

    static func requiredString(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> String {
        guard let s = try string(o, key, feature: feature) else { throw .missingField(feature: feature, field: key) }
        return s
    }

    static func int(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> Int? {
        guard let v = o[key] else { return nil }
        switch v {
        case .null: return nil
        case .number:
            switch v.fgNumber {
            case .int(let i)? where i >= Int64(Int.min) && i <= Int64(Int.max): return Int(i)
            case .double(let d)? where d.rounded() == d && abs(d) < 9e18: return Int(d)
            default: break
            }
        case .string(let s):
            if let i = Int(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        throw .invalidField(feature: feature, field: key, reason: "expected an integer, got \(v.typeName)")
    }

    static func positiveInt(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> Int? {
        guard let v = try int(o, key, feature: feature) else { return nil }
        guard v > 0 else { throw .invalidField(feature: feature, field: key, reason: "must be positive, got \(v)") }
        return v
    }

    static func bool(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> Bool? {
        guard let v = o[key] else { return nil }
        switch v {
        case .null: return nil
        case .bool(let b): return b
        case .number where v.int64 == 0 || v.int64 == 1: return v.int64 == 1
        case .string(let s):
            switch s.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: break
            }
        default: break
        }
        throw .invalidField(feature: feature, field: key, reason: "expected a boolean, got \(v.typeName)")
    }

    static func double(_ v: JSONValue, feature: String, key: String) throws(FGError) -> Double {
        switch v {
        case .number:
            switch v.fgNumber {
            case .int(let i)?: return Double(i)
            case .double(let d)?: return d
            case nil: break
            }
        case .string(let s):
            if let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite { return d }
        default: break
        }
        throw .invalidField(feature: feature, field: key, reason: "expected a number, got \(v.typeName)")
    }

    static func stringList(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> [String]? {
        guard let v = o[key] else { return nil }
        switch v {
        case .null: return nil
        case .array(let a):
            var out: [String] = []
            for e in a {
                switch e {
                case .string(let s): out.append(s)
                case .number where e.fgNumber != nil:
                    switch e.fgNumber {
                    case .int(let i)?: out.append(String(i))
                    case .double(let d)?: out.append(String(d))
                    case nil: break
                    }
                default: throw .invalidField(feature: feature, field: key, reason: "expected strings, got \(e.typeName)")
                }
            }
            return out
        case .string(let s):
            return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        default:
            throw .invalidField(feature: feature, field: key, reason: "expected a list, got \(v.typeName)")
        }
    }

    /// Ascending numeric list, given as a JSON array or a comma-separated string.
    static func boundaries(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> [Double]? {
        guard let v = o[key] else { return nil }
        var out: [Double] = []
        switch v {
        case .null: return nil
        case .array(let a):
            for e in a { out.append(try double(e, feature: feature, key: key)) }
        case .string(let s):
            for part in s.split(separator: ",", omittingEmptySubsequences: false) {
                out.append(try double(.string(String(part)), feature: feature, key: key))
            }
        default:
            throw .invalidField(feature: feature, field: key, reason: "expected a list of numbers, got \(v.typeName)")
        }
        guard !out.isEmpty else { throw .invalidField(feature: feature, field: key, reason: "is empty") }
        for k in 1..<out.count where !(out[k - 1] < out[k]) {
            throw .invalidField(feature: feature, field: key, reason: "must be strictly ascending")
        }
        return out
    }

    static func expression(_ o: JSONValue, _ key: String, feature: String) throws(FGError) -> FGInput {
        let e = try requiredString(o, key, feature: feature)
        guard let input = FGInput(expression: e) else {
            throw .malformedExpression(feature: feature, field: key, expression: e)
        }
        return input
    }

    static func normalizer(_ o: JSONValue, feature: String) throws(FGError) -> FGNormalizer {
        guard let text = try string(o, "normalizer", feature: feature), !text.isEmpty else { return .identity }
        var params: [String: Double] = [:]
        var method = ""
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else {
                throw .invalidField(feature: feature, field: "normalizer", reason: "expected k=v in '\(part)'")
            }
            if kv[0] == "method" {
                method = kv[1]
            } else {
                guard let d = Double(kv[1]) else {
                    throw .invalidField(feature: feature, field: "normalizer", reason: "'\(kv[0])' is not a number")
                }
                params[kv[0]] = d
            }
        }
        func need(_ k: String) throws(FGError) -> Double {
            guard let v = params[k] else {
                throw .invalidField(feature: feature, field: "normalizer", reason: "\(method) needs '\(k)'")
            }
            return v
        }
        switch method {
        case "", "none": return .identity
        case "minmax": return .minmax(min: try need("min"), max: try need("max"))
        case "zscore": return .zscore(mean: try need("mean"), standardDeviation: try need("standard_deviation"))
        case "log10": return .log10(threshold: params["threshold"] ?? 1.0, defaultValue: params["default"] ?? 0.0)
        default: throw .invalidField(feature: feature, field: "normalizer", reason: "unknown method '\(method)'")
        }
    }

    /// `embedding_dimension`, else `embedding_dim`.
    static func dimension(_ o: JSONValue, feature: String) throws(FGError) -> Int? {
        if let d = try positiveInt(o, "embedding_dimension", feature: feature) { return d }
        return try positiveInt(o, "embedding_dim", feature: feature)
    }

    static func training(_ o: JSONValue, feature: String, fileDim: Int) throws(FGError) -> FGTrainingOptions {
        let dim = try dimension(o, feature: feature) ?? fileDim
        var extra: FGExtraCombo?
        if let e = o["extra_combo_info"], e != .null {
            guard case .object = e else {
                throw .invalidField(feature: feature, field: "extra_combo_info", reason: "expected an object")
            }
            let names = try stringList(e, "feature_names", feature: feature) ?? []
            guard !names.isEmpty else { throw .missingField(feature: feature, field: "extra_combo_info.feature_names") }
            guard let buckets = try positiveInt(e, "hash_bucket_size", feature: feature) else {
                throw .missingField(feature: feature, field: "extra_combo_info.hash_bucket_size")
            }
            let inputs = [feature] + names
            extra = FGExtraCombo(
                name: try string(e, "final_feature_name", feature: feature) ?? "combo__" + inputs.joined(separator: "_"),
                inputNames: inputs, hashBucketSize: buckets,
                embeddingDim: try dimension(e, feature: feature) ?? fileDim,
                combiner: try string(e, "combiner", feature: feature) ?? "sum")
        }
        var combiner = try string(o, "combiner", feature: feature) ?? "sum"
        if o["feature_type"] == .string("lookup_feature"), ["min", "max", "count"].contains(combiner) {
            combiner = "sum"  // a lookup combiner (how hits combine), not an embedding combiner
        }
        guard ["sum", "mean", "sqrtn"].contains(combiner) else {
            throw .invalidField(feature: feature, field: "combiner", reason: "expected sum, mean or sqrtn, got '\(combiner)'")
        }
        return FGTrainingOptions(
            hashBucketSize: try positiveInt(o, "hash_bucket_size", feature: feature),
            numBuckets: try positiveInt(o, "num_buckets", feature: feature),
            vocabList: try stringList(o, "vocab_list", feature: feature),
            embeddingDim: dim,
            combiner: combiner,
            isMulti: try bool(o, "is_multi", feature: feature) ?? false,
            boundaries: try boundaries(o, "boundaries", feature: feature),
            group: try string(o, "group", feature: feature),
            sharedName: try string(o, "shared_name", feature: feature),
            useEmbeddingVariable: try bool(o, "use_embedding_variable", feature: feature) ?? false,
            valueType: try string(o, "value_type", feature: feature),
            kvSeparator: try string(o, "kv_separator", feature: feature),
            extraCombo: extra)
    }

    static func feature(_ o: JSONValue, index: Int, sequence: FGSequence?, fileDim: Int) throws(FGError) -> FGFeature {
        guard let featureName = try string(o, "feature_name", feature: "#\(index)"), !featureName.isEmpty else {
            throw .missingField(feature: "#\(index)", field: "feature_name")
        }
        let name = sequence.map { $0.name + "_" + featureName } ?? featureName
        let typeText = try requiredString(o, "feature_type", feature: name)
        guard let type = FGFeatureType(rawValue: typeText) else {
            throw .unknownFeatureType(feature: name, type: typeText)
        }
        var inputs: [FGInput] = []
        var matchCategory: FGInput?
        var overlap: FGOverlapMethod?
        switch type {
        case .id, .raw:
            inputs = [try expression(o, "expression", feature: name)]
        case .combo:
            guard let v = o["expression"] else { throw .missingField(feature: name, field: "expression") }
            var texts: [String] = []
            switch v {
            case .array(let a):
                for e in a {
                    guard case .string(let s) = e else {
                        throw .invalidField(feature: name, field: "expression", reason: "expected strings, got \(e.typeName)")
                    }
                    texts.append(s)
                }
            case .string(let s): texts = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            default: throw .invalidField(feature: name, field: "expression", reason: "expected a list of expressions")
            }
            guard !texts.isEmpty else { throw .invalidField(feature: name, field: "expression", reason: "is empty") }
            for t in texts {
                guard let input = FGInput(expression: t) else {
                    throw .malformedExpression(feature: name, field: "expression", expression: t)
                }
                inputs.append(input)
            }
        case .lookup:
            inputs = [try expression(o, "map", feature: name), try expression(o, "key", feature: name)]
        case .match:
            inputs = [try expression(o, "user", feature: name), try expression(o, "item", feature: name)]
            let cat = try requiredString(o, "category", feature: name)
            if cat != "ALL" {
                guard let c = FGInput(expression: cat) else {
                    throw .malformedExpression(feature: name, field: "category", expression: cat)
                }
                matchCategory = c
            }
        case .overlap:
            inputs = [try expression(o, "query", feature: name), try expression(o, "title", feature: name)]
            let m = try requiredString(o, "method", feature: name)
            guard let method = FGOverlapMethod(rawValue: m) else {
                throw .invalidField(feature: name, field: "method", reason: "unknown overlap method '\(m)'")
            }
            overlap = method
        }
        let matchTypeText = try string(o, "matchType", feature: name) ?? "hit"
        guard let matchType = FGMatchType(rawValue: matchTypeText) else {
            throw .invalidField(feature: name, field: "matchType", reason: "expected hit or multihit, got '\(matchTypeText)'")
        }
        let combinerText = try string(o, "combiner", feature: name) ?? "sum"
        let lookupCombiner: FGLookupCombiner
        if type == .lookup, let c = FGLookupCombiner(rawValue: combinerText) {
            lookupCombiner = c
        } else {
            lookupCombiner = .sum
        }
        let valueDimension = try positiveInt(o, "value_dimension", feature: name) ?? 1
        guard valueDimension <= 4096 else {
            throw .invalidField(feature: name, field: "value_dimension", reason: "larger than 4096")
        }
        var pruneTo = try int(o, "prune_to", feature: name)
        if pruneTo == nil { pruneTo = try int(o, "pruneLimit", feature: name) }
        if let p = pruneTo, p < 0 { throw .invalidField(feature: name, field: "prune_to", reason: "must not be negative") }
        let training = try training(o, feature: name, fileDim: fileDim)
        return FGFeature(
            name: name, featureName: featureName, type: type, inputs: inputs,
            needPrefix: try bool(o, "need_prefix", feature: name) ?? true,
            pruneTo: pruneTo,
            invalidValues: try stringList(o, "invalid_values", feature: name) ?? [],
            defaultValue: try string(o, "default_value", feature: name),
            normalizer: try normalizer(o, feature: name),
            valueDimension: valueDimension,
            bucketizeBoundaries: try boundaries(o, "bucketize_boundaries", feature: name),
            needDiscrete: try bool(o, "needDiscrete", feature: name) ?? true,
            needKey: try bool(o, "needKey", feature: name) ?? true,
            needWeighting: try bool(o, "needWeighting", feature: name) ?? false,
            lookupCombiner: lookupCombiner,
            defaultLookupValue: try string(o, "default_lookup_value", feature: name),
            matchType: matchType,
            matchCategory: matchCategory,
            overlapMethod: overlap,
            separator: try string(o, "separator", feature: name) ?? "_",
            sequence: sequence,
            training: training)
    }

    static func sequenceBlock(_ o: JSONValue, index: Int, fileDim: Int) throws(FGError) -> [FGFeature] {
        let name = try requiredString(o, "sequence_name", feature: "#\(index)")
        let length = try positiveInt(o, "sequence_length", feature: name)
        guard let length else { throw .missingField(feature: name, field: "sequence_length") }
        let delim = try string(o, "sequence_delim", feature: name) ?? ";"
        guard !delim.isEmpty else { throw .invalidField(feature: name, field: "sequence_delim", reason: "is empty") }
        let seq = FGSequence(
            name: name,
            column: try string(o, "sequence_column", feature: name) ?? name,
            length: length, delimiter: delim,
            defaultValue: try string(o, "default_value", feature: name),
            primaryKey: try string(o, "sequence_pk", feature: name))
        guard let subs = o["features"] else { throw .missingField(feature: name, field: "features") }
        guard case .array(let list) = subs, !list.isEmpty else {
            throw .invalidField(feature: name, field: "features", reason: "expected a non-empty array")
        }
        var out: [FGFeature] = []
        for (k, sub) in list.enumerated() {
            guard case .object = sub else {
                throw .invalidField(feature: name, field: "features[\(k)]", reason: "expected an object")
            }
            let f = try feature(sub, index: k, sequence: seq, fileDim: fileDim)
            guard f.type == .id || f.type == .raw else {
                throw .invalidField(feature: f.name, field: "feature_type",
                                    reason: "sequence sub-features must be id_feature or raw_feature")
            }
            out.append(f)
        }
        return out
    }
}
