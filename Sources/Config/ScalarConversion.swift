import JSON
/// Converts one text-format scalar to the proto-JSON value of a field of a given type,
/// checking the type and range the way protobuf's own text parser does.
enum ScalarConversion {
    /// `lenientStrings`: a string field also accepts a bare number/word (edit_config_json values).
    static func convert(_ s: TextScalar, type: ConfigSchema.FieldType, schema: ConfigSchema,
                        lenientStrings: Bool = false) -> Result<JSONValue, ConversionFailure> {
        switch type {
        case .string:
            switch s.kind {
            case .string(let b):
                guard let str = String(validating: b, as: UTF8.self) else { return .failure("string is not valid UTF-8") }
                return .success(.string(str))
            case .number(let n) where lenientStrings: return .success(.string(n))
            case .identifier(let w, let neg) where lenientStrings: return .success(.string((neg ? "-" : "") + w))
            default: return .failure("expected a quoted string, found \(s.display)")
            }
        case .bytes:
            guard case .string(let b) = s.kind else { return .failure("expected a quoted string, found \(s.display)") }
            return .success(.string(base64(b)))
        case .bool:
            switch s.kind {
            case .identifier(let w, false) where ["true", "True", "t"].contains(w): return .success(.bool(true))
            case .identifier(let w, false) where ["false", "False", "f"].contains(w): return .success(.bool(false))
            case .number("1"): return .success(.bool(true))
            case .number("0"): return .success(.bool(false))
            default: return .failure("expected true or false, found \(s.display)")
            }
        case .int32, .int64, .uint32, .uint64:
            guard case .number(let n) = s.kind else { return .failure("expected an integer, found \(s.display)") }
            return integer(n, type: type)
        case .float, .double:
            return floating(s, isFloat: type == .float)
        case .enumeration(let enumName):
            guard let e = schema.enums[enumName] else { return .failure("unknown enum type \(enumName)") }
            let valid = e.values.map(\.name).joined(separator: ", ")
            switch s.kind {
            case .identifier(let w, false):
                guard e.number(of: w) != nil else {
                    return .failure("unknown value '\(w)' for enum \(shortName(enumName)); expected one of \(valid)")
                }
                return .success(.string(w))
            case .number(let n):
                guard let v = Int32(n), let name = e.name(of: v) else {
                    return .failure("\(n) is not a value of enum \(shortName(enumName)); expected one of \(valid)")
                }
                return .success(.string(name))
            case .string(let b) where lenientStrings:
                let w = String(decoding: b, as: UTF8.self)
                guard e.number(of: w) != nil else {
                    return .failure("unknown value '\(w)' for enum \(shortName(enumName)); expected one of \(valid)")
                }
                return .success(.string(w))
            default:
                return .failure("expected a value of enum \(shortName(enumName)) (\(valid)), found \(s.display)")
            }
        case .message(let m):
            return .failure("expected a message block { ... } for \(shortName(m)), found \(s.display)")
        }
    }

    static func shortName(_ full: String) -> String {
        full.split(separator: ".").last.map(String.init) ?? full
    }

    /// Decimal, hex (0x) or octal (leading 0) integer with optional '-', range-checked.
    static func integer(_ text: String, type: ConfigSchema.FieldType) -> Result<JSONValue, ConversionFailure> {
        var body = Substring(text)
        let negative = body.hasPrefix("-")
        if negative { body = body.dropFirst() }
        var radix = 10
        if body.hasPrefix("0x") || body.hasPrefix("0X") {
            radix = 16; body = body.dropFirst(2)
        } else if body.count > 1, body.hasPrefix("0") {
            radix = 8; body = body.dropFirst()
        }
        guard !body.isEmpty, let magnitude = UInt64(body, radix: radix) else {
            return .failure("expected an integer, found '\(text)'")
        }
        let (lo, hi): (Int64, UInt64)
        let is64: Bool
        switch type {
        case .int32: (lo, hi, is64) = (Int64(Int32.min), UInt64(Int32.max), false)
        case .uint32: (lo, hi, is64) = (0, UInt64(UInt32.max), false)
        case .int64: (lo, hi, is64) = (Int64.min, UInt64(Int64.max), true)
        default: (lo, hi, is64) = (0, UInt64.max, true)
        }
        let value: String
        if negative {
            guard lo < 0, magnitude <= UInt64(Int64.max) + 1 else {
                return .failure("\(text) is out of range for \(typeName(type))")
            }
            if magnitude == UInt64(Int64.max) + 1 {
                value = String(Int64.min)
            } else {
                let v = -Int64(magnitude)
                guard v >= lo else { return .failure("\(text) is out of range for \(typeName(type))") }
                value = String(v)
            }
        } else {
            guard magnitude <= hi else { return .failure("\(text) is out of range for \(typeName(type))") }
            value = String(magnitude)
        }
        return .success(is64 ? .string(value) : .number(value))
    }

    static func typeName(_ t: ConfigSchema.FieldType) -> String {
        switch t {
        case .double: return "double"
        case .float: return "float"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .bool: return "bool"
        case .string: return "string"
        case .bytes: return "bytes"
        case .enumeration(let n): return "enum " + shortName(n)
        case .message(let n): return "message " + shortName(n)
        }
    }

    /// Float literal (with optional f suffix), integer literal, inf/infinity/nan.
    static func floating(_ s: TextScalar, isFloat: Bool) -> Result<JSONValue, ConversionFailure> {
        switch s.kind {
        case .identifier(let w, let negative):
            switch w.lowercased() {
            case "inf", "infinity": return .success(.string(negative ? "-Infinity" : "Infinity"))
            case "nan": return .success(.string("NaN"))
            default: return .failure("expected a number, found \(s.display)")
            }
        case .number(let n):
            var t = n
            let lower = t.lowercased()
            let isHexOrOctal = lower.hasPrefix("0x") || lower.hasPrefix("-0x")
            if isHexOrOctal {
                var r = integer(t, type: .int64)
                if case .failure = r { r = integer(t, type: .uint64) }
                guard case .success(.string(let v)) = r, let d = Double(v) else {
                    return .failure("expected a number, found '\(n)'")
                }
                return .success(.number(format(d)))
            }
            if lower.hasSuffix("f") { t.removeLast() }
            guard let d = Double(t), t.allSatisfy({ "0123456789.eE+-".contains($0) }) else {
                return .failure("expected a number, found '\(n)'")
            }
            if isFloat, d.isFinite, abs(d) > Double(Float.greatestFiniteMagnitude) {
                return .failure("\(n) is out of range for float")
            }
            guard d.isFinite else { return .failure("\(n) is out of range for double") }
            return .success(.number(format(d)))
        case .string:
            return .failure("expected a number, found \(s.display)")
        }
    }

    /// Shortest round-trip text of a finite double, valid JSON.
    static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why a scalar does not fit its field.
struct ConversionFailure: Error, Equatable {
    var reason: String
}

extension Result where Failure == ConversionFailure {
    static func failure(_ reason: String) -> Result { .failure(ConversionFailure(reason: reason)) }
}
