/// What a NaN or infinite `float_feature` in a predict request does (`odl serve --non-finite-features`).
public enum NonFiniteFeaturePolicy: String, Sendable, Equatable, CaseIterable {
    /// HTTP 400 naming the field (the default: a non-finite input is a client bug).
    case reject
    /// The value counts as missing: the feature takes its fg.json default.
    case missing
}
