import Foundation
import SwiftProtobuf

/// Wire format of one predict call, chosen by the request's Content-Type; the answer uses the same.
public enum PredictBodyFormat: Sendable, Equatable {
    /// Serialized PBRequest / PBResponse; `contentType` is echoed in the answer.
    case protobuf(contentType: String)
    /// Protobuf canonical JSON mapping.
    case json

    public var contentType: String {
        switch self {
        case .protobuf(let t): return t
        case .json: return "application/json"
        }
    }

    /// The format for a Content-Type header value; nil when unsupported. No header means
    /// protobuf (EAS SDK clients without a token send none).
    public static func from(contentType: String?) -> PredictBodyFormat? {
        guard let raw = contentType else { return .protobuf(contentType: "application/octet-stream") }
        let media = raw.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        switch media {
        case "", "application/octet-stream": return .protobuf(contentType: "application/octet-stream")
        case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf":
            return .protobuf(contentType: media)
        case "application/json", "text/json": return .json
        default: return nil
        }
    }
}

/// Decoding requests and encoding answers in either format.
public enum PredictCodec {
    static let jsonEncoding: JSONEncodingOptions = {
        var o = JSONEncodingOptions()
        o.preserveProtoFieldNames = true
        return o
    }()

    public static func decodeRequest(_ body: [UInt8], format: PredictBodyFormat) throws(PredictFailure) -> PBRequest {
        switch format {
        case .protobuf:
            if let fast = PBRequestWireDecoder.decode(body) { return fast }
            do {
                return try PBRequest(serializedBytes: body)
            } catch let error as BinaryDecodingError {
                throw PredictFailure("request body is not a valid PBRequest protobuf (\(describe(error)), \(body.count) bytes)")
            } catch {
                throw PredictFailure("request body is not a valid PBRequest protobuf: \(error)")
            }
        case .json:
            do {
                return try PBRequest(jsonUTF8Bytes: body)
            } catch {
                throw PredictFailure("request body is not a valid PBRequest JSON: \(JSONErrorLocator.locate(body, error: error))")
            }
        }
    }

    public static func encodeResponse(_ response: PBResponse, format: PredictBodyFormat) -> [UInt8] {
        switch format {
        case .protobuf:
            return (try? response.serializedBytes()) ?? []
        case .json:
            return (try? response.jsonUTF8Bytes(options: jsonEncoding)) ?? Array(#"{"status_code":"EXCEPTION","error_msg":"response encoding failed"}"#.utf8)
        }
    }

    /// The error answer for `failure` in `format`.
    public static func errorResponse(_ failure: PredictFailure) -> PBResponse {
        var r = PBResponse()
        r.statusCode = failure.status
        r.errorMsg = failure.message
        return r
    }

    static func describe(_ error: BinaryDecodingError) -> String {
        switch error {
        case .truncated: return "truncated"
        case .malformedProtobuf: return "malformed protobuf"
        case .invalidUTF8: return "a string field is not valid UTF-8"
        case .trailingGarbage: return "trailing garbage"
        case .messageDepthLimit: return "nested too deeply"
        case .missingRequiredFields: return "missing required fields"
        default: return "\(error)"
        }
    }
}

/// Finds which field of a JSON PBRequest SwiftProtobuf refused, by decoding the parts one by one.
enum JSONErrorLocator {
    static func locate(_ body: [UInt8], error: any Error) -> String {
        let reason = describe(error)
        let depth = nestingDepth(body)
        if depth > maxDepth { return "JSON nested \(depth) levels deep (the limit is \(maxDepth))" }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            return "\(reason): the body is not valid JSON"
        }
        guard let object = parsed as? [String: Any] else {
            return "the body must be a JSON object (a PBRequest), got \(jsonKind(parsed))"
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "user_features", "userFeatures":
                guard let map = value as? [String: Any] else { return "\(key) must be an object of PBFeature" }
                for (name, feature) in map.sorted(by: { $0.key < $1.key }) where !decodes(PBFeature.self, feature) {
                    return "\(key).\(name): \(describeFeature(feature))"
                }
            case "context_features", "contextFeatures":
                guard let map = value as? [String: Any] else { return "\(key) must be an object of ContextFeatures" }
                for (name, context) in map.sorted(by: { $0.key < $1.key }) where !decodes(PBContextFeatures.self, context) {
                    if let list = (context as? [String: Any])?["features"] as? [Any] {
                        for (i, feature) in list.enumerated() where !decodes(PBFeature.self, feature) {
                            return "\(key).\(name).features[\(i)]: \(describeFeature(feature))"
                        }
                    }
                    return "\(key).\(name): must be {\"features\": [PBFeature, ...]}"
                }
            case "item_ids", "itemIds":
                guard let list = value as? [Any] else { return "\(key) must be a list of strings" }
                if let bad = list.firstIndex(where: { !($0 is String) }) { return "\(key)[\(bad)] is not a string" }
            case "debug_level", "debugLevel", "faiss_neigh_num", "faissNeighNum":
                if !(value is NSNumber) || (value as? NSNumber).map({ $0.doubleValue != $0.doubleValue.rounded() }) == true {
                    if !(value is String) { return "\(key) must be an integer" }
                }
            default:
                return "unknown top-level field \"\(key)\" (a PBRequest has user_features, context_features, item_ids, debug_level, faiss_neigh_num)"
            }
        }
        return reason
    }

    /// Deepest object/array nesting of a JSON text (brackets inside strings not counted).
    static let maxDepth = 64

    static func nestingDepth(_ body: [UInt8]) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for b in body {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    private static func jsonKind(_ value: Any) -> String {
        switch value {
        case is [Any]: return "an array"
        case is String: return "a string"
        case is NSNull: return "null"
        case is NSNumber: return "a number"
        default: return "\(type(of: value))"
        }
    }

    private static func decodes<M: SwiftProtobuf.Message>(_ type: M.Type, _ value: Any) -> Bool {
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: [value]),
              let text = String(data: data, encoding: .utf8) else { return false }
        // Strip the wrapping array: "[...]" -> "...".
        let inner = String(text.dropFirst().dropLast())
        return (try? M(jsonString: inner)) != nil
    }

    private static func describeFeature(_ value: Any) -> String {
        guard let object = value as? [String: Any], object.count == 1, let (kind, v) = object.first else {
            return "must be an object with exactly one of int_feature, long_feature, string_feature, float_feature"
        }
        switch kind {
        case "int_feature", "intFeature", "long_feature", "longFeature":
            return "\(kind) needs an integer, got \(v)"
        case "float_feature", "floatFeature":
            return "\(kind) needs a number, got \(v)"
        case "string_feature", "stringFeature":
            return "\(kind) needs a string, got \(v)"
        default:
            return "unknown value kind \"\(kind)\" (use int_feature, long_feature, string_feature or float_feature)"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? JSONDecodingError {
            switch e {
            case .unknownField(let name): return "unknown field \"\(name)\""
            case .truncated: return "truncated JSON"
            case .malformedNumber: return "malformed number"
            case .numberRange: return "number out of range"
            case .malformedString: return "malformed string"
            case .trailingGarbage: return "trailing garbage"
            case .conflictingOneOf: return "a PBFeature sets more than one value"
            case .messageDepthLimit: return "nested too deeply"
            case .invalidUTF8: return "not valid UTF-8"
            case .illegalNull: return "null where a value is required"
            case .malformedMap: return "a map (user_features or context_features) is malformed"
            case .unquotedMapKey: return "a map key is not quoted"
            case .leadingZero: return "a number has a leading zero"
            case .failure: return "malformed JSON"
            default: return "\(e)"
            }
        }
        return "\(error)"
    }
}
