/// Every error of the FG module; each case names the feature, field or offset at fault.
public enum FGError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not valid JSON (`offset` is a byte offset into it).
    case invalidJSON(source: String, offset: Int, reason: String)
    /// A required key is missing from a feature (or from the file: feature "").
    case missingField(feature: String, field: String)
    /// A key has a value of the wrong JSON type or an invalid value.
    case invalidField(feature: String, field: String, reason: String)
    /// `feature_type` is not one fg.md defines.
    case unknownFeatureType(feature: String, type: String)
    /// An input expression is not `side:field` with side user/item/context.
    case malformedExpression(feature: String, field: String, expression: String)
    /// Two features produce the same output name.
    case duplicateFeature(String)
    /// A predict request is malformed or exceeds a limit (`field` names the offending field).
    case invalidRequest(field: String, reason: String)
    /// A training sample line is malformed (`field` names the sample field).
    case invalidSample(line: Int, field: String, reason: String)
    /// A feature column reads an input that the batch does not provide.
    case missingInput(column: String, input: String)
    /// A file could not be read.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidJSON(let s, let o, let r): return "\(s): invalid JSON at byte \(o): \(r)"
        case .missingField(let f, let k):
            return f.isEmpty ? "fg.json: missing required key '\(k)'" : "feature '\(f)': missing required key '\(k)'"
        case .invalidField(let f, let k, let r): return "feature '\(f)': field '\(k)': \(r)"
        case .unknownFeatureType(let f, let t): return "feature '\(f)': unknown feature_type '\(t)'"
        case .malformedExpression(let f, let k, let e):
            return "feature '\(f)': field '\(k)': malformed expression '\(e)' (expected user:|item:|context:<name>)"
        case .duplicateFeature(let n): return "duplicate feature name '\(n)'"
        case .invalidRequest(let f, let r): return "request field '\(f)': \(r)"
        case .invalidSample(let l, let f, let r): return "sample \(l), field '\(f)': \(r)"
        case .missingInput(let c, let i): return "feature column '\(c)': input '\(i)' is not provided"
        case .io(let p, let r): return "\(p): \(r)"
        }
    }
}
