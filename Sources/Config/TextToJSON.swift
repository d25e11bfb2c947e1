import Foundation
import JSON

/// Applies the schema to parsed text format: checks every supported field's value, drops
/// (and records) fields outside the subset, and produces the proto-JSON form of the message
/// (proto field names as keys) for SwiftProtobuf's JSON decoder.
struct TextToJSON {
    let schema: ConfigSchema
    let source: String
    /// Values come from edit_config_json: strings may stand for numbers, enums and bools.
    var lenientStrings = false
    private(set) var warnings: [ConfigWarning] = []
    /// First position of every field path seen (indexed paths), for later validation errors.
    private(set) var positions: [String: TextPosition] = [:]
    private var warned: Set<String> = []

    init(schema: ConfigSchema, source: String, lenientStrings: Bool = false) {
        self.schema = schema
        self.source = source
        self.lenientStrings = lenientStrings
    }

    private static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "." + b }

    private func error(_ kind: ConfigError.Kind, _ path: String, _ line: Int, _ column: Int, _ reason: String) -> ConfigError {
        ConfigError(kind, path: path, line: line > 0 ? line : nil, column: line > 0 ? column : nil,
                    reason: reason, source: source)
    }

    private mutating func warn(_ path: String, _ line: Int, _ column: Int) {
        guard warned.insert(path).inserted else { return }
        warnings.append(ConfigWarning(path: path, line: line, column: column, source: source))
    }

    /// `fields` as a message of type `typeName`; `path` is indexed (for errors), `plainPath`
    /// has no indices (for warnings).
    mutating func message(_ fields: [TextField], typeName: String, path: String = "",
                          plainPath: String = "") throws(ConfigError) -> JSONValue {
        let m = try schema.message(typeName)
        var members: [JSONMember] = []
        var memberIndex: [String: Int] = [:]
        var firstSeen: [String: Int] = [:]
        var oneofSet: [Int: String] = [:]
        var counts: [String: Int] = [:]
        for f in fields {
            let plain = TextToJSON.join(plainPath, f.name)
            guard !f.isExtension, let fd = m.field(f.name) else {
                warn(plain, f.line, f.column)
                continue
            }
            let fpath = TextToJSON.join(path, fd.name)
            if f.line > 0, positions[fpath] == nil { positions[fpath] = TextPosition(line: f.line, column: f.column) }
            if !fd.isRepeated {
                if let first = firstSeen[fd.name] {
                    throw error(.invalid, fpath, f.line, f.column,
                                "field is not repeated but is set more than once (first at line \(first))")
                }
                firstSeen[fd.name] = f.line
                if let o = fd.oneofIndex {
                    if let other = oneofSet[o], other != fd.name {
                        throw error(.invalid, fpath, f.line, f.column,
                                    "\(fd.name) and \(other) are alternatives (oneof \(m.oneofNames[o])); set only one")
                    }
                    oneofSet[o] = fd.name
                }
            }
            var values: [JSONValue] = []
            switch (fd.type, f.value) {
            case (.message(let sub), .message(let body, _, _)):
                let idx = counts[fd.name, default: 0]
                counts[fd.name] = idx + 1
                if fd.isRepeated, f.line > 0 { positions["\(fpath)[\(idx)]"] = TextPosition(line: f.line, column: f.column) }
                values.append(try message(body, typeName: sub, path: fd.isRepeated ? "\(fpath)[\(idx)]" : fpath,
                                          plainPath: plain))
            case (.message(let sub), .list(let items, _, _)):
                guard fd.isRepeated else {
                    throw error(.badValue, fpath, f.line, f.column, "field is not repeated; a list [...] is not allowed")
                }
                for item in items {
                    guard case .message(let body, _, _) = item else {
                        throw error(.badValue, fpath, f.line, f.column,
                                    "expected message blocks { ... } for \(ScalarConversion.shortName(sub)) in the list")
                    }
                    let idx = counts[fd.name, default: 0]
                    counts[fd.name] = idx + 1
                    if case .message(_, let line, let column) = item, line > 0 {
                        positions["\(fpath)[\(idx)]"] = TextPosition(line: line, column: column)
                    }
                    values.append(try message(body, typeName: sub, path: "\(fpath)[\(idx)]", plainPath: plain))
                }
            case (.message(let sub), .scalar(let s)):
                throw error(.badValue, fpath, s.line, s.column,
                            "expected a message block { ... } for \(ScalarConversion.shortName(sub)), found \(s.display)")
            case (_, .scalar(let s)):
                values.append(try scalar(s, field: fd, path: fpath))
            case (_, .list(let items, let line, let column)):
                guard fd.isRepeated else {
                    throw error(.badValue, fpath, line, column, "field is not repeated; a list [...] is not allowed")
                }
                for item in items {
                    guard case .scalar(let s) = item else {
                        throw error(.badValue, fpath, line, column,
                                    "expected \(ScalarConversion.typeName(fd.type)) values in the list, found a message block")
                    }
                    values.append(try scalar(s, field: fd, path: fpath))
                }
            case (_, .message(_, let line, let column)):
                throw error(.badValue, fpath, line, column,
                            "expected a \(ScalarConversion.typeName(fd.type)) value, found a message block")
            }
            if fd.isRepeated {
                if let i = memberIndex[fd.name], case .array(let existing) = members[i].value {
                    members[i].value = .array(existing + values)
                } else {
                    memberIndex[fd.name] = members.count
                    members.append(JSONMember(key: fd.name, value: .array(values)))
                }
            } else if let v = values.first {
                memberIndex[fd.name] = members.count
                members.append(JSONMember(key: fd.name, value: v))
            }
        }
        return .object(members)
    }

    private func scalar(_ s: TextScalar, field fd: ConfigSchema.Field, path: String) throws(ConfigError) -> JSONValue {
        var token = s
        if lenientStrings, case .string(let b) = s.kind, fd.type != .string, fd.type != .bytes {
            token = TextToJSON.reinterpret(String(decoding: b, as: UTF8.self), line: s.line, column: s.column)
        }
        switch ScalarConversion.convert(token, type: fd.type, schema: schema, lenientStrings: lenientStrings) {
        case .success(let v): return v
        case .failure(let f): throw error(.badValue, path, s.line, s.column, f.reason)
        }
    }

    /// A string from JSON read as a bare text-format token ("100", "-1e-5", "WIDE", "true").
    static func reinterpret(_ str: String, line: Int, column: Int) -> TextScalar {
        var t = Substring(str.trimmingCharacters(in: .whitespaces))
        var negative = false
        if t.hasPrefix("-") { negative = true; t = t.dropFirst() }
        if let c = t.first, c.isASCII, c.isNumber || c == "." {
            return TextScalar(kind: .number((negative ? "-" : "") + t), line: line, column: column)
        }
        if !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            return TextScalar(kind: .identifier(String(t), negative: negative), line: line, column: column)
        }
        return TextScalar(kind: .string(Array(str.utf8)), line: line, column: column)
    }

    /// A JSON object (edit_config_json fragment) as text-format fields.
    static func fields(fromJSON object: [JSONMember]) throws(ConfigError) -> [TextField] {
        var out: [TextField] = []
        for m in object {
            guard let v = try value(fromJSON: m.value, key: m.key) else { continue }
            out.append(TextField(name: m.key, isExtension: false, line: 0, column: 0, value: v))
        }
        return out
    }

    private static func value(fromJSON v: JSONValue, key: String) throws(ConfigError) -> TextValue? {
        switch v {
        case .null: return nil
        case .bool(let b): return .scalar(TextScalar(kind: .identifier(b ? "true" : "false", negative: false), line: 0, column: 0))
        case .number(let n): return .scalar(TextScalar(kind: .number(n), line: 0, column: 0))
        case .string(let s): return .scalar(TextScalar(kind: .string(Array(s.utf8)), line: 0, column: 0))
        case .object(let members): return .message(try fields(fromJSON: members), line: 0, column: 0)
        case .array(let items):
            var list: [TextValue] = []
            for item in items {
                guard let x = try value(fromJSON: item, key: key) else { continue }
                if case .list = x {
                    throw ConfigError(.badValue, path: key, reason: "nested lists are not allowed")
                }
                list.append(x)
            }
            return .list(list, line: 0, column: 0)
        }
    }
}
