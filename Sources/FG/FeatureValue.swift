/// One raw feature value of a user or an item, as a request supplies it.
/// Strings may hold several values separated by `\u{1d}`; lists hold several values.
public enum FeatureValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case strings([String])
    case ints([Int64])
    case floats([Double])
}

/// Limits applied to requests and feature evaluation (documented defaults).
public struct FGLimits: Sendable, Equatable {
    /// Items per request; more is a request error.
    public var maxItems: Int
    /// Values taken from one multi-value input of one item; the rest are ignored (truncation).
    public var maxValuesPerInput: Int
    /// Outputs of one feature for one item (combo products, sequences); the rest are ignored.
    public var maxOutputsPerFeature: Int
    /// Nesting depth of JSON documents.
    public var maxJSONDepth: Int

    public init(maxItems: Int = 10_000, maxValuesPerInput: Int = 1_000,
                maxOutputsPerFeature: Int = 10_000, maxJSONDepth: Int = 64) {
        self.maxItems = maxItems
        self.maxValuesPerInput = maxValuesPerInput
        self.maxOutputsPerFeature = maxOutputsPerFeature
        self.maxJSONDepth = maxJSONDepth
    }
}
