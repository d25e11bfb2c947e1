/// The side a feature input is read from (`user:`, `item:`, `context:`).
public enum FGSide: String, Sendable, Equatable {
    case user, item, context
}

/// One input expression `side:field`.
public struct FGInput: Sendable, Equatable, CustomStringConvertible {
    public var side: FGSide
    public var field: String

    public init(side: FGSide, field: String) {
        self.side = side
        self.field = field
    }

    /// Parse `side:field`; nil when malformed.
    public init?(expression: String) {
        guard let colon = expression.firstIndex(of: ":") else { return nil }
        guard let side = FGSide(rawValue: String(expression[..<colon])) else { return nil }
        let field = String(expression[expression.index(after: colon)...])
        guard !field.isEmpty, !field.contains(":") else { return nil }
        self.side = side
        self.field = field
    }

    public var description: String { "\(side.rawValue):\(field)" }
}

/// The FG feature types of fg.md section 3.
public enum FGFeatureType: String, Sendable, Equatable {
    case id = "id_feature"
    case raw = "raw_feature"
    case combo = "combo_feature"
    case lookup = "lookup_feature"
    case match = "match_feature"
    case overlap = "overlap_feature"
}

/// A normalizer `method=...,k=v` of raw/lookup/match features.
public enum FGNormalizer: Sendable, Equatable {
    case identity
    case minmax(min: Double, max: Double)
    case zscore(mean: Double, standardDeviation: Double)
    case log10(threshold: Double, defaultValue: Double)

    @inlinable
    public func apply(_ x: Double) -> Double {
        switch self {
        case .identity: return x
        case .minmax(let lo, let hi): return hi == lo ? 0 : (x - lo) / (hi - lo)
        case .zscore(let m, let s): return s == 0 ? 0 : (x - m) / s
        case .log10(let t, let d): return x > t ? FGMath.log10(x) : d
        }
    }
}

/// How several lookup hits combine into one float (non-discrete lookups).
public enum FGLookupCombiner: String, Sendable, Equatable {
    case sum, mean, min, max, count
}

/// `matchType` of a match feature.
public enum FGMatchType: String, Sendable, Equatable {
    case hit, multihit
}

/// `method` of an overlap feature.
public enum FGOverlapMethod: String, Sendable, Equatable {
    case isEqual = "is_equal"
    case isContain = "is_contain"
    case commonWord = "common_word"
    case diffWord = "diff_word"
    case queryCommonRatio = "query_common_ratio"
    case titleCommonRatio = "title_common_ratio"
    case commonWordDivided = "common_word_divided"
    case diffWordDivided = "diff_word_divided"
}

/// The sequence block a sub-feature belongs to (fg.md section 3, sequence feature block).
public struct FGSequence: Sendable, Equatable {
    public var name: String
    /// The user feature holding the sequence (e.g. recent clicked item ids).
    public var column: String
    public var length: Int
    public var delimiter: String
    /// Element used when the sequence input is missing (block `default_value`).
    public var defaultValue: String?
    /// `sequence_pk`: the sub-feature field that the sequence elements themselves are.
    public var primaryKey: String?
}

/// A pipeline-side ComboFeature requested by `extra_combo_info` on an fg.json feature.
public struct FGExtraCombo: Sendable, Equatable {
    public var name: String
    public var inputNames: [String]
    public var hashBucketSize: Int
    public var embeddingDim: Int
    public var combiner: String
}

/// EasyRec training keys read from an fg.json feature (fg.md section 1).
public struct FGTrainingOptions: Sendable, Equatable {
    public var hashBucketSize: Int?
    public var numBuckets: Int?
    public var vocabList: [String]?
    public var embeddingDim: Int
    public var combiner: String
    public var isMulti: Bool
    public var boundaries: [Double]?
    public var group: String?
    public var sharedName: String?
    public var useEmbeddingVariable: Bool
    public var valueType: String?
    public var kvSeparator: String?
    public var extraCombo: FGExtraCombo?
}

/// One FG feature of fg.json with its options and defaults (sequence sub-features included).
public struct FGFeature: Sendable, Equatable {
    /// Output name: `feature_name`, or `<sequence_name>_<feature_name>` for a sub-feature.
    public var name: String
    /// `feature_name` as written (the id prefix is built from it).
    public var featureName: String
    public var type: FGFeatureType
    /// id/raw: [expression]; combo: the expression list; lookup: [map, key];
    /// match: [user, item] (+ category when not "ALL", appended last); overlap: [query, title].
    public var inputs: [FGInput]
    public var needPrefix: Bool
    public var pruneTo: Int?
    public var invalidValues: [String]
    public var defaultValue: String?
    public var normalizer: FGNormalizer
    public var valueDimension: Int
    public var bucketizeBoundaries: [Double]?
    public var needDiscrete: Bool
    public var needKey: Bool
    public var needWeighting: Bool
    public var lookupCombiner: FGLookupCombiner
    public var defaultLookupValue: String?
    public var matchType: FGMatchType
    /// Match feature category input; nil means `"ALL"`.
    public var matchCategory: FGInput?
    public var overlapMethod: FGOverlapMethod?
    public var separator: String
    public var sequence: FGSequence?
    public var training: FGTrainingOptions

    /// `feature_name + "_"` when `need_prefix`, else "".
    public var prefix: String { needPrefix ? featureName + "_" : "" }

    /// True when the output is floats (raw, non-discrete lookup/match without bucketize).
    public var outputsFloats: Bool {
        switch type {
        case .raw: return bucketizeBoundaries == nil
        case .lookup, .match: return !needDiscrete && bucketizeBoundaries == nil
        default: return false
        }
    }

    /// True when outputs carry weights (`needWeighting` lookups).
    public var outputsWeights: Bool { (type == .lookup || type == .match) && needWeighting && needDiscrete }
}
