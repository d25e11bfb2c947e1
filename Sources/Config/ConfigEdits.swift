import Foundation
import SwiftProtobuf
import JSON

/// `edit_config_json`: `{"dotted.path": value, ...}` applied to a loaded config.
///
/// Paths use proto field names. A repeated message field takes a selector: `[i]`, `[:]`
/// (all), `[i:j]`, or `[field=value]` / `[field[k]=value]` matching elements (EasyRec's
/// `feature_configs[input_names[0]=site_id].embedding_dim`; `[feature_name=x]` also matches a
/// feature named by its input_names[0]). A path starting with
/// `feature_configs` addresses `feature_config.features` when only that list is used.
/// A value is a scalar (converted to the field's type: "100" works for an int) or, for a
/// message field, a JSON object or a string holding JSON or text format; it replaces the
/// message. `null` clears the field.
extension PipelineConfig {
    /// Applies every edit in order, then re-validates. Errors name the edit path.
    public mutating func applyEdits(json: String) throws(ConfigError) {
        let source = "edit_config_json"
        let edits: JSONValue
        do throws(JSONSyntaxError) {
            edits = try JSONParser.parse(json)
        } catch {
            throw ConfigError(.syntax, path: "", reason: "not JSON (\(error.reason) at offset \(error.offset))", source: source)
        }
        guard case .object(let members) = edits else {
            throw ConfigError(.syntax, path: "", reason: "edit_config_json must be a JSON object of path: value", source: source)
        }
        let schema = try ConfigSchema.load()
        var tree = try encodeTree(source: source)
        var editor = ConfigEditor(schema: schema, source: source)
        for m in members {
            try editor.apply(path: m.key, value: m.value, to: &tree)
        }
        let proto: EasyRec_EasyRecConfig = try PipelineConfig.decodeJSON(tree, source: source, path: "")
        let edited = PipelineConfig(unchecked: proto, warnings: warnings + editor.warnings)
        try edited.validate(source: source)
        self = edited
    }

    /// The message as proto JSON with proto field names.
    private func encodeTree(source: String) throws(ConfigError) -> JSONValue {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        do {
            let text = try proto.jsonString(options: options)
            return try JSONParser.parse(text)
        } catch {
            throw ConfigError(.invalid, path: "", reason: "cannot encode the config as JSON: \(error)", source: source)
        }
    }
}

/// One step of an edit path: a field name and an optional `[...]` selector.
struct EditPathSegment: Equatable {
    enum Selector: Equatable {
        case index(Int)
        case slice(Int?, Int?)
        case match(field: String, index: Int?, value: String)
    }
    var name: String
    var selector: Selector?

    /// Splits `a.b[sel].c` (selectors may contain dots and nested brackets).
    static func parse(_ path: String) -> [EditPathSegment]? {
        var segments: [EditPathSegment] = []
        var chars = Array(path)
        chars.append(".")
        var name = ""
        var selectorText: String?
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "[" {
                guard selectorText == nil, !name.isEmpty else { return nil }
                var depth = 1
                var j = i + 1
                var text = ""
                while j < chars.count - 1 {
                    if chars[j] == "[" { depth += 1 }
                    if chars[j] == "]" { depth -= 1; if depth == 0 { break } }
                    text.append(chars[j])
                    j += 1
                }
                guard depth == 0 else { return nil }
                selectorText = text
                i = j + 1
                guard i < chars.count, chars[i] == "." else { return nil }
                continue
            }
            if c == "." {
                guard !name.isEmpty else { return nil }
                var seg = EditPathSegment(name: name, selector: nil)
                if let t = selectorText {
                    guard let s = parseSelector(t) else { return nil }
                    seg.selector = s
                }
                segments.append(seg)
                name = ""
                selectorText = nil
            } else {
                guard c.isLetter || c.isNumber || c == "_" else { return nil }
                name.append(c)
            }
            i += 1
        }
        return segments.isEmpty ? nil : segments
    }

    private static func parseSelector(_ raw: String) -> Selector? {
        let t = raw.trimmingCharacters(in: .whitespaces)
        if let i = Int(t), i >= 0 { return .index(i) }
        if let colon = t.firstIndex(of: ":"), !t.contains("=") {
            let a = t[..<colon].trimmingCharacters(in: .whitespaces)
            let b = t[t.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let lo = a.isEmpty ? nil : Int(a)
            let hi = b.isEmpty ? nil : Int(b)
            if (!a.isEmpty && lo == nil) || (!b.isEmpty && hi == nil) { return nil }
            return .slice(lo, hi)
        }
        guard let eq = t.firstIndex(of: "=") else { return nil }
        var key = t[..<eq].trimmingCharacters(in: .whitespaces)
        var value = t[t.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, let f = value.first, f == value.last, f == "\"" || f == "'" {
            value = String(value.dropFirst().dropLast())
        }
        var index: Int?
        if key.hasSuffix("]"), let open = key.firstIndex(of: "[") {
            guard let k = Int(key[key.index(after: open)..<key.index(before: key.endIndex)]) else { return nil }
            index = k
            key = String(key[..<open])
        }
        guard !key.isEmpty else { return nil }
        return .match(field: key, index: index, value: value)
    }
}

/// Applies edits to the proto-JSON tree of a config, checking paths and values against the schema.
struct ConfigEditor {
    let schema: ConfigSchema
    let source: String
    private(set) var warnings: [ConfigWarning] = []

    init(schema: ConfigSchema, source: String) {
        self.schema = schema
        self.source = source
    }

    private func fail(_ kind: ConfigError.Kind, _ path: String, _ reason: String) -> ConfigError {
        ConfigError(kind, path: path, reason: reason, source: source)
    }

    mutating func apply(path: String, value: JSONValue, to tree: inout JSONValue) throws(ConfigError) {
        guard var segments = EditPathSegment.parse(path) else {
            throw fail(.unknownField, path, "malformed edit path")
        }
        if segments[0].name == "feature_configs", tree["feature_configs"] == nil, tree["feature_config"]?["features"] != nil {
            segments[0].name = "features"
            segments.insert(EditPathSegment(name: "feature_config", selector: nil), at: 0)
        }
        let root = try schema.message(ConfigSchema.rootName)
        try apply(segments[...], in: root, node: &tree, path: path, parentPath: "", value: value)
    }

    private mutating func apply(_ segs: ArraySlice<EditPathSegment>, in msg: ConfigSchema.Message, node: inout JSONValue,
                                path: String, parentPath: String, value: JSONValue) throws(ConfigError) {
        guard let seg = segs.first else { return }
        guard let fd = msg.field(seg.name) else {
            throw fail(.unknownField, path,
                       "edit path names no field: \(ScalarConversion.shortName(msg.fullName)) has no field \"\(seg.name)\"")
        }
        guard case .object(var members) = node else {
            throw fail(.invalid, path, "\(parentPath) is not a message")
        }
        let here = parentPath.isEmpty ? fd.name : parentPath + "." + fd.name
        let idx = members.firstIndex { $0.key == fd.name }
        let rest = segs.dropFirst()

        if let selector = seg.selector {
            guard fd.isRepeated else {
                throw fail(.unknownField, path, "\(here) is not a repeated field; [...] is not allowed")
            }
            guard let idx, case .array(var items) = members[idx].value else {
                throw fail(.invalid, path, "\(here) is empty; the selector [\(describe(selector))] matches nothing")
            }
            let chosen = try select(items, selector, field: fd, path: path, here: here)
            for i in chosen {
                let elementPath = "\(here)[\(i)]"
                if rest.isEmpty {
                    items[i] = try convertElement(value, field: fd, msg: msg, parentPath: parentPath, elementPath: elementPath)
                } else {
                    guard case .message(let sub) = fd.type else {
                        throw fail(.unknownField, path, "\(elementPath) is a \(ScalarConversion.typeName(fd.type)), it has no field \"\(rest.first?.name ?? "")\"")
                    }
                    try apply(rest, in: try schema.message(sub), node: &items[i], path: path, parentPath: elementPath, value: value)
                }
            }
            members[idx].value = .array(items)
            node = .object(members)
            return
        }

        if rest.isEmpty {
            if case .null = value {
                if let idx { members.remove(at: idx) }
            } else {
                let converted = try convertField(value, field: fd, msg: msg, parentPath: parentPath, path: path)
                if let idx { members[idx].value = converted } else { members.append(JSONMember(key: fd.name, value: converted)) }
                let siblings = Set(msg.oneofSiblings(of: fd).map(\.name))
                members.removeAll { siblings.contains($0.key) }
            }
            node = .object(members)
            return
        }
        guard case .message(let sub) = fd.type else {
            throw fail(.unknownField, path, "\(here) is a \(ScalarConversion.typeName(fd.type)), it has no field \"\(rest.first?.name ?? "")\"")
        }
        guard !fd.isRepeated else {
            throw fail(.unknownField, path, "\(here) is repeated: select elements with [i], [:] or [field=value]")
        }
        var child = idx.map { members[$0].value } ?? .object([])
        try apply(rest, in: try schema.message(sub), node: &child, path: path, parentPath: here, value: value)
        if let idx { members[idx].value = child } else { members.append(JSONMember(key: fd.name, value: child)) }
        let siblings = Set(msg.oneofSiblings(of: fd).map(\.name))
        members.removeAll { siblings.contains($0.key) }
        node = .object(members)
    }

    private func describe(_ s: EditPathSegment.Selector) -> String {
        switch s {
        case .index(let i): return "\(i)"
        case .slice(let a, let b): return "\(a.map(String.init) ?? ""):\(b.map(String.init) ?? "")"
        case .match(let f, let i, let v): return "\(f)\(i.map { "[\($0)]" } ?? "")=\(v)"
        }
    }

    private func select(_ items: [JSONValue], _ s: EditPathSegment.Selector, field: ConfigSchema.Field,
                        path: String, here: String) throws(ConfigError) -> [Int] {
        var chosen: [Int]
        switch s {
        case .index(let i):
            chosen = i < items.count ? [i] : []
        case .slice(let a, let b):
            let lo = max(0, min(a ?? 0, items.count))
            let hi = max(lo, min(b ?? items.count, items.count))
            chosen = Array(lo..<hi)
        case .match(let key, let index, let want):
            guard case .message(let sub) = field.type else {
                throw fail(.invalid, path, "\(here) holds scalars; use [i] to select")
            }
            guard let kf = try schema.message(sub).field(key) else {
                throw fail(.unknownField, path, "selector field \"\(key)\" is not a field of \(ScalarConversion.shortName(sub))")
            }
            chosen = items.indices.filter { i in
                var v = items[i][kf.name]
                // A feature's name is feature_name, else input_names[0] (as EasyRec resolves it).
                if v == nil, kf.name == "feature_name", index == nil, case .array(let names)? = items[i]["input_names"] {
                    v = names.first
                }
                if let index {
                    guard case .array(let arr)? = v, index < arr.count else { return false }
                    v = arr[index]
                }
                guard let v else { return false }
                return ConfigEditor.matches(v, want)
            }
        }
        guard !chosen.isEmpty else {
            throw fail(.invalid, path, "selector [\(describe(s))] matches no element of \(here) (\(items.count) elements)")
        }
        return chosen
    }

    private static func matches(_ v: JSONValue, _ want: String) -> Bool {
        switch v {
        case .string(let s):
            if s == want { return true }
            if let a = Double(s), let b = Double(want) { return a == b }
            return false
        case .number(let n):
            if n == want { return true }
            if let a = Double(n), let b = Double(want) { return a == b }
            return false
        case .bool(let b): return (b ? "true" : "false") == want.lowercased()
        default: return false
        }
    }

    /// The new value of a whole field (a list for a repeated field).
    private mutating func convertField(_ value: JSONValue, field fd: ConfigSchema.Field, msg: ConfigSchema.Message,
                                       parentPath: String, path: String) throws(ConfigError) -> JSONValue {
        var v = value
        if fd.isRepeated, case .string(let s) = value {
            let t = s.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("["), let parsed = try? JSONParser.parse(t), case .array = parsed { v = parsed }
        }
        let textValue = try self.textValue(v, field: fd, path: path)
        return try convert(textValue, field: fd, msg: msg, parentPath: parentPath, path: path)
    }

    /// The new value of one element of a repeated field.
    private mutating func convertElement(_ value: JSONValue, field fd: ConfigSchema.Field, msg: ConfigSchema.Message,
                                         parentPath: String, elementPath: String) throws(ConfigError) -> JSONValue {
        if case .array = value {
            throw fail(.badValue, elementPath, "one element of \(fd.name) takes a single value, not a list")
        }
        let textValue = try self.textValue(value, field: fd, path: elementPath)
        guard case .array(let items) = try convert(textValue, field: fd, msg: msg, parentPath: parentPath, path: elementPath),
              let first = items.first else {
            throw fail(.badValue, elementPath, "no value")
        }
        return first
    }

    /// Edit value -> text-format value (a string for a message field is parsed as JSON or text format).
    private func textValue(_ value: JSONValue, field fd: ConfigSchema.Field, path: String) throws(ConfigError) -> TextValue {
        if case .message = fd.type, case .string(let s) = value {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.hasPrefix("{"), let parsed = try? JSONParser.parse(t), case .object(let members) = parsed {
                return .message(try TextToJSON.fields(fromJSON: members), line: 0, column: 0)
            }
            do throws(ConfigError) {
                let body = try TextFormatParser.parse(t, source: source)
                return .message(body, line: 0, column: 0)
            } catch {
                var e = error
                e.path = e.path.isEmpty ? path : path + "." + e.path
                e.reason = "value is neither a JSON object nor text format: " + e.reason
                throw e
            }
        }
        guard case .object(let members) = value else {
            guard let tv = try TextToJSON.fields(fromJSON: [JSONMember(key: fd.name, value: value)]).first?.value else {
                throw fail(.badValue, path, "no value")
            }
            return tv
        }
        return .message(try TextToJSON.fields(fromJSON: members), line: 0, column: 0)
    }

    /// Runs the schema walker on a one-field fragment of `msg` and returns that field's JSON.
    private mutating func convert(_ tv: TextValue, field fd: ConfigSchema.Field, msg: ConfigSchema.Message,
                                  parentPath: String, path: String) throws(ConfigError) -> JSONValue {
        var walker = TextToJSON(schema: schema, source: source, lenientStrings: true)
        let fragment = [TextField(name: fd.name, isExtension: false, line: 0, column: 0, value: tv)]
        let out = try walker.message(fragment, typeName: msg.fullName, path: parentPath, plainPath: parentPath)
        warnings += walker.warnings
        guard let v = out[fd.name] else { throw fail(.badValue, path, "no value") }
        return v
    }
}
