import FG
import Foundation

/// Item features loaded at start-up, keyed by item id: they feed `item:` expressions for
/// items whose request carries no value for a field (request context features win).
///
/// Files: CSV with a header row (`.csv`, RFC 4180 quoting; every cell is a string that FG
/// parses as needed), or JSON lines (`.jsonl`/`.json`: one object per line; strings,
/// numbers, booleans and arrays of them). The key column is `item_id` unless told otherwise.
public struct ItemFeatureTable: Sendable {
    /// Feature fields, the key column excluded.
    public let fields: [String]
    private let rowOfItem: [String: Int]
    /// `values[field][row]`, nil where the file has no value.
    private let values: [[FeatureValue?]]

    public var count: Int { rowOfItem.count }

    /// Failure to load the table; names the file and line.
    public struct LoadError: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "item table \(path) line \(line): \(reason)" }
    }

    public init(fields: [String], rows: [(id: String, values: [FeatureValue?])]) {
        self.fields = fields
        var index: [String: Int] = [:]
        var columns = Array(repeating: [FeatureValue?](), count: fields.count)
        for row in rows {
            if let existing = index[row.id] {
                for f in fields.indices { columns[f][existing] = f < row.values.count ? row.values[f] : nil }
                continue
            }
            index[row.id] = columns.first?.count ?? index.count
            for f in fields.indices { columns[f].append(f < row.values.count ? row.values[f] : nil) }
        }
        rowOfItem = index
        values = columns
    }

    /// Value of `fields[field]` for `item`, nil when the item or the value is absent.
    public func value(field: Int, item: String) -> FeatureValue? {
        guard let row = rowOfItem[item] else { return nil }
        return values[field][row]
    }

    public func contains(_ item: String) -> Bool { rowOfItem[item] != nil }

    /// The table as the compact item cache the scorer reads.
    public func makeStore() -> ItemStore {
        let store = ItemStore(fields: fields)
        var storage = store.makeStorage()
        for (item, row) in rowOfItem.sorted(by: { $0.value < $1.value }) {
            storage.upsert(id: item, values: values.map { $0[row] })
        }
        store.replaceAll(with: storage)
        return store
    }

    /// Load a CSV or JSON-lines file (by extension; `.jsonl`, `.json`, `.ndjson` are JSON lines).
    public static func load(path: String, keyField: String = "item_id") throws(LoadError) -> ItemFeatureTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, line: 0, reason: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        let lower = path.lowercased()
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") || lower.hasSuffix(".ndjson") {
            return try loadJSONLines(text, path: path, keyField: keyField)
        }
        return try loadCSV(text, path: path, keyField: keyField)
    }

    static func loadCSV(_ text: String, path: String, keyField: String) throws(LoadError) -> ItemFeatureTable {
        var records: [(line: Int, cells: [String])] = []
        do {
            records = try CSVParser.parse(text)
        } catch {
            throw LoadError(path: path, line: error.line, reason: error.reason)
        }
        guard let header = records.first else { throw LoadError(path: path, line: 1, reason: "no header row") }
        let names = header.cells.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let keyIndex = names.firstIndex(of: keyField) else {
            throw LoadError(path: path, line: header.line, reason: "header has no key column \"\(keyField)\"")
        }
        let fieldIndices = names.indices.filter { $0 != keyIndex }
        var rows: [(id: String, values: [FeatureValue?])] = []
        rows.reserveCapacity(records.count)
        for record in records.dropFirst() {
            if record.cells.count == 1 && record.cells[0].isEmpty { continue }
            guard record.cells.count == names.count else {
                throw LoadError(path: path, line: record.line,
                                reason: "\(record.cells.count) cells, the header has \(names.count)")
            }
            let id = record.cells[keyIndex]
            guard !id.isEmpty else { throw LoadError(path: path, line: record.line, reason: "empty \(keyField)") }
            rows.append((id, fieldIndices.map { i in record.cells[i].isEmpty ? nil : .string(record.cells[i]) }))
        }
        return ItemFeatureTable(fields: fieldIndices.map { names[$0] }, rows: rows)
    }

    static func loadJSONLines(_ text: String, path: String, keyField: String) throws(LoadError) -> ItemFeatureTable {
        var fieldIndex: [String: Int] = [:]
        var fields: [String] = []
        var rows: [(id: String, values: [FeatureValue?])] = []
        var lineNumber = 0
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let object = try? decoder.decode([String: JSONCell].self, from: Data(trimmed.utf8)) else {
                throw LoadError(path: path, line: lineNumber, reason: "not a JSON object")
            }
            guard let rawKey = object[keyField], let id = rawKey.keyString else {
                throw LoadError(path: path, line: lineNumber, reason: "no \"\(keyField)\" string or integer")
            }
            var values: [FeatureValue?] = Array(repeating: nil, count: fields.count)
            for (name, raw) in object where name != keyField {
                if case .null = raw { continue }
                guard let value = raw.featureValue else {
                    throw LoadError(path: path, line: lineNumber, reason: "field \"\(name)\" has an unsupported value type")
                }
                let index: Int
                if let known = fieldIndex[name] {
                    index = known
                } else {
                    index = fields.count
                    fieldIndex[name] = index
                    fields.append(name)
                    values.append(nil)
                }
                values[index] = value
            }
            rows.append((id, values))
        }
        return ItemFeatureTable(fields: fields, rows: rows)
    }

}

/// One JSON value of an item-table line.
enum JSONCell: Decodable {
    case string(String), int(Int64), double(Double), bool(Bool), array([JSONCell]), null, other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONCell].self) { self = .array(a); return }
        self = .other
    }

    var keyString: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: return nil
        }
    }

    /// FG value; nil for objects, nested or mixed arrays.
    var featureValue: FeatureValue? {
        switch self {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .float(d)
        case .bool(let b): return .bool(b)
        case .null, .other: return nil
        case .array(let items):
            var strings: [String] = [], ints: [Int64] = [], doubles: [Double] = []
            for item in items {
                switch item {
                case .string(let s): strings.append(s)
                case .int(let i): ints.append(i); doubles.append(Double(i))
                case .double(let d): doubles.append(d)
                default: return nil
                }
            }
            if strings.count == items.count { return .strings(strings) }
            if ints.count == items.count { return .ints(ints) }
            if doubles.count == items.count { return .floats(doubles) }
            return nil
        }
    }
}

/// RFC 4180 CSV records with their starting line numbers.
enum CSVParser {
    struct Failure: Error { var line: Int; var reason: String }

    static func parse(_ text: String) throws(Failure) -> [(line: Int, cells: [String])] {
        var records: [(line: Int, cells: [String])] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var i = 0
        func endCell() { cells.append(String(decoding: cell, as: UTF8.self)); cell.removeAll(keepingCapacity: true) }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { cell.append(b); i += 1 } else { inQuotes = false }
                } else {
                    if b == UInt8(ascii: "\n") { line += 1 }
                    cell.append(b)
                }
            } else if b == UInt8(ascii: "\"") && cell.isEmpty {
                inQuotes = true
            } else if b == UInt8(ascii: ",") {
                endCell()
            } else if b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") {
                if b == UInt8(ascii: "\r") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") { i += 1 }
                endCell()
                records.append((recordLine, cells))
                cells.removeAll()
                line += 1
                recordLine = line
            } else {
                cell.append(b)
            }
            i += 1
        }
        if inQuotes { throw Failure(line: recordLine, reason: "unterminated quoted cell") }
        if !cell.isEmpty || !cells.isEmpty { endCell(); records.append((recordLine, cells)) }
        return records
    }
}
