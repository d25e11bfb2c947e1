import JSON
/// Parsing of the predict API's JSON form (protobuf canonical JSON of `PBRequest`,
/// serving-api.md) into an ``FGRequest``.
extension FGRequest {
    /// Parse `{"user_features": {...}, "item_ids": [...], "context_features": {...}, "debug_level": n}`.
    /// Field names may also be lowerCamelCase (`userFeatures`, ...). A `PBFeature` is
    /// `{"string_feature": s}`, `{"int_feature": i}`, `{"long_feature": i or "i"}`,
    /// `{"float_feature": x or "NaN"/"Infinity"}`; an empty `{}` is a missing value.
    public static func parseJSON(_ bytes: [UInt8], limits: FGLimits = FGLimits()) throws(FGError) -> FGRequest {
        let root: JSONValue
        do throws(JSONSyntaxError) {
            root = try JSONParser.parse(bytes, maxDepth: limits.maxJSONDepth)
        } catch {
            let detail = FGError.invalidJSON(source: "request", offset: error.offset, reason: error.reason)
            throw .invalidRequest(field: "(body)", reason: detail.description)
        }
        guard case .object = root else { throw .invalidRequest(field: "(body)", reason: "expected a JSON object") }
        func field(_ snake: String, _ camel: String) -> JSONValue? { root[snake] ?? root[camel] }

        var debugLevel = 0
        if let d = field("debug_level", "debugLevel"), d != .null {
            guard let v = d.int64, v >= 0, v <= 100 else {
                throw .invalidRequest(field: "debug_level", reason: "expected a small non-negative integer")
            }
            debugLevel = Int(v)
        }
        var itemIds: [String] = []
        if let ids = field("item_ids", "itemIds"), ids != .null {
            guard case .array(let list) = ids else { throw .invalidRequest(field: "item_ids", reason: "expected an array of strings") }
            guard list.count <= limits.maxItems else {
                throw .invalidRequest(field: "item_ids", reason: "\(list.count) items exceed the limit of \(limits.maxItems)")
            }
            for (i, v) in list.enumerated() {
                switch v {
                case .string(let s): itemIds.append(s)
                case .number where v.int64 != nil: itemIds.append(v.int64.map { String($0) } ?? "")
                default: throw .invalidRequest(field: "item_ids[\(i)]", reason: "expected a string, got \(v.typeName)")
                }
            }
        }
        var user: [String: FeatureValue] = [:]
        if let u = field("user_features", "userFeatures"), u != .null {
            guard case .object(let m) = u else { throw .invalidRequest(field: "user_features", reason: "expected an object") }
            for member in m {
                let (name, v) = (member.key, member.value)
                if let fv = try pbFeature(v, field: "user_features.\(name)") { user[name] = fv }
            }
        }
        var items: [String: [FeatureValue]] = [:]
        if let c = field("context_features", "contextFeatures"), c != .null {
            guard case .object(let m) = c else { throw .invalidRequest(field: "context_features", reason: "expected an object") }
            for member in m {
                let (name, v) = (member.key, member.value)
                let path = "context_features.\(name)"
                guard case .object = v else { throw .invalidRequest(field: path, reason: "expected {\"features\": [...]}") }
                guard let fs = v["features"], fs != .null else { continue }
                guard case .array(let list) = fs else { throw .invalidRequest(field: path + ".features", reason: "expected an array") }
                var values: [FeatureValue] = []
                var missing = false
                for (i, f) in list.enumerated() {
                    if let fv = try pbFeature(f, field: "\(path).features[\(i)]") { values.append(fv) } else { missing = true }
                }
                if missing {
                    throw .invalidRequest(field: path, reason: "a per-item value is empty (every entry needs a value)")
                }
                if !values.isEmpty { items[name] = values }
            }
        }
        let request = FGRequest(userFeatures: user, itemIds: itemIds, itemFeatures: items, debugLevel: debugLevel)
        try request.validate(limits: limits)
        return request
    }

    /// One `PBFeature` (nil when it carries no value).
    static func pbFeature(_ v: JSONValue, field: String) throws(FGError) -> FeatureValue? {
        guard case .object(let o) = v else { throw .invalidRequest(field: field, reason: "expected a PBFeature object, got \(v.typeName)") }
        var found: FeatureValue?
        var count = 0
        for member in o {
            let (key, value) = (member.key, member.value)
            count += 1
            guard count == 1 else { throw .invalidRequest(field: field, reason: "more than one value in a PBFeature") }
            switch key {
            case "string_feature", "stringFeature":
                guard case .string(let s) = value else { throw .invalidRequest(field: field, reason: "string_feature must be a string") }
                found = .string(s)
            case "int_feature", "intFeature":
                let i = try integer(value, field: field, key: key)
                guard i >= Int64(Int32.min), i <= Int64(Int32.max) else {
                    throw .invalidRequest(field: field, reason: "int_feature out of int32 range")
                }
                found = .int(i)
            case "long_feature", "longFeature":
                found = .int(try integer(value, field: field, key: key))
            case "float_feature", "floatFeature":
                let d: Double
                switch value {
                case .number where value.fgNumber != nil:
                    switch value.fgNumber {
                    case .int(let i)?: d = Double(i)
                    case .double(let x)?: d = x
                    case nil: d = .nan
                    }
                case .string("NaN"): d = .nan
                case .string("Infinity"): d = .infinity
                case .string("-Infinity"): d = -.infinity
                case .string(let s):
                    guard let x = Double(s) else { throw .invalidRequest(field: field, reason: "float_feature '\(s)' is not a number") }
                    d = x
                default: throw .invalidRequest(field: field, reason: "float_feature must be a number")
                }
                found = .float(Double(Float(d)))  // a protobuf float
            default:
                throw .invalidRequest(field: field, reason: "unknown PBFeature field '\(key)'")
            }
        }
        return found
    }

    static func integer(_ v: JSONValue, field: String, key: String) throws(FGError) -> Int64 {
        switch v {
        case .number:
            switch v.fgNumber {
            case .int(let i)?: return i
            case .double(let d)? where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
            default: break
            }
        case .string(let s):
            if let i = Int64(s) { return i }
        default: break
        }
        throw .invalidRequest(field: field, reason: "\(key) must be an integer")
    }
}
