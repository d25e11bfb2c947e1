/// Why a sample line was rejected.
public enum BadSample: Error, Equatable, CustomStringConvertible {
    case fieldCount(expected: Int, found: Int)
    case notANumber(field: String, value: String)
    case badLabel(field: String, value: String)

    public var description: String {
        switch self {
        case .fieldCount(let e, let f): return "expected \(e) fields, found \(f)"
        case .notANumber(let n, let v): return "field \(n): \"\(v.prefix(40))\" is not a number"
        case .badLabel(let n, let v): return "label \(n): \"\(v.prefix(40))\" is not a number"
        }
    }
}

/// Splits sample lines into fields by ``SampleLayout``, validating numeric fields and labels.
/// Reuses its buffers: one parser per input thread.
public struct SampleParser: Sendable {
    public let schema: SampleLayout
    private let separatorBytes: [UInt8]
    /// The fields of the last parsed line (empty fields replaced by their default).
    public private(set) var fields: [String]
    /// The label (first label field) of the last parsed line.
    public private(set) var label: Float = 0
    /// Whether the last line had empty fields replaced by their `default_val` (then ``line`` differs from the input).
    public private(set) var usedDefaults = false

    /// The last parsed line with defaults filled in, joined by the separator.
    public var line: [UInt8] { Array(fields.joined(separator: schema.separator).utf8) }

    public init(schema: SampleLayout) {
        self.schema = schema
        self.separatorBytes = Array(schema.separator.utf8)
        self.fields = Array(repeating: "", count: schema.fields.count)
    }

    /// Parses one line (a trailing "\n" or "\r\n" is ignored). On success ``fields`` and ``label`` hold it.
    public mutating func parse(_ line: Substring.UTF8View) throws(BadSample) {
        var bytes = line[...]
        while let last = bytes.last, last == 10 || last == 13 { bytes = bytes.dropLast() }
        let expected = schema.fields.count
        var count = 0
        var start = bytes.startIndex
        var i = bytes.startIndex
        let sep = separatorBytes
        let sepFirst = sep[0]
        while i < bytes.endIndex {
            if bytes[i] == sepFirst, matches(bytes, at: i, sep) {
                if count < expected { fields[count] = String(Substring(bytes[start..<i])) }
                count += 1
                i = bytes.index(i, offsetBy: sep.count)
                start = i
            } else {
                i = bytes.index(after: i)
            }
        }
        if count < expected { fields[count] = String(Substring(bytes[start..<bytes.endIndex])) }
        count += 1
        guard count == expected else { throw .fieldCount(expected: expected, found: count) }
        usedDefaults = false
        for (k, f) in schema.fields.enumerated() {
            if fields[k].isEmpty, !f.defaultValue.isEmpty {
                fields[k] = f.defaultValue
                usedDefaults = true
            }
            if f.type.isNumeric, !Self.isNumber(fields[k], type: f.type) {
                if schema.labelIndices.contains(k) { throw .badLabel(field: f.name, value: fields[k]) }
                throw .notANumber(field: f.name, value: fields[k])
            }
        }
        let labelField = schema.labelIndices[0]
        guard let l = Float(fields[labelField].trimmingSpaces()), l.isFinite else {
            throw .badLabel(field: schema.fields[labelField].name, value: fields[labelField])
        }
        label = l
    }

    /// Parses a whole line given as a String.
    public mutating func parse(_ line: String) throws(BadSample) {
        try parse(line[...].utf8)
    }

    private func matches(_ bytes: Substring.UTF8View.SubSequence, at i: Substring.UTF8View.Index, _ sep: [UInt8]) -> Bool {
        if sep.count == 1 { return true }
        var j = i
        for b in sep {
            guard j < bytes.endIndex, bytes[j] == b else { return false }
            j = bytes.index(after: j)
        }
        return true
    }

    static func isNumber(_ s: String, type: SampleLayout.FieldType) -> Bool {
        let t = s.trimmingSpaces()
        switch type {
        case .int32, .int64:
            // EasyRec's CSV decoding accepts integers; a float-looking value in an int field is rejected.
            return Int64(t) != nil
        case .float, .double:
            guard let d = Double(t) else { return false }
            return !d.isNaN
        case .bool:
            return ["0", "1", "true", "false", "True", "False"].contains(t)
        case .string:
            return true
        }
    }
}

extension String {
    /// Trims spaces from both ends (cheap, no Foundation).
    func trimmingSpaces() -> Substring {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
