import FG
import Postgres

/// How the item table's columns map to item features: the select list odl sends, and the
/// conversion of each result row (binary format) into an item id, its features in
/// ``ItemStore`` field order, its time key and its deleted flag.
struct ItemColumnPlan: Sendable {
    struct Feature: Sendable {
        var name: String
        var field: Int
        var type: UInt32
        /// The feature feeds a raw_feature: text must parse as a number.
        var numeric: Bool
    }

    let table: String
    let keyType: UInt32
    let timeType: UInt32?
    let hasDeleted: Bool
    let features: [Feature]
    /// `SELECT key, time_key, deleted, features... FROM table`.
    let selectSQL: String
    /// Store fields the table has no column for.
    let missingFields: [String]

    /// One converted row, or why it was skipped (naming the column).
    struct Row {
        var id: String
        var values: [FeatureValue?]
        /// Microseconds since 1970 (time key in seconds scaled), nil without a time key.
        var timeMicros: Int64?
        var deleted: Bool
    }

    struct RowProblem: Error {
        var key: String
        var column: String
        var reason: String
    }

    /// Build from the table's columns (names and type OIDs of `SELECT * ... LIMIT 0`).
    init(settings: ItemSourceSettings, columns: [(name: String, type: UInt32)], fields: [String],
         numericFields: Set<String>) throws(ItemSourceError) {
        table = settings.table
        func column(_ name: String, role: String) throws(ItemSourceError) -> UInt32 {
            guard let c = columns.first(where: { $0.name == name }) else {
                throw ItemSourceError.schema(table: settings.table, "has no \(role) column \"\(name)\" (columns: \(columns.map(\.name).joined(separator: ", ")))")
            }
            return c.type
        }
        keyType = try column(settings.key, role: "key")
        guard PGType.isText(keyType) || [PGType.int2, PGType.int4, PGType.int8].contains(keyType) else {
            throw .schema(table: settings.table, "key column \"\(settings.key)\" has type oid \(keyType); use text, varchar or an integer")
        }
        var select = [ItemSourceSettings.quote(settings.key)]
        if let tk = settings.timeKey {
            let t = try column(tk, role: "time_key")
            guard [PGType.timestamp, PGType.timestamptz, PGType.int4, PGType.int8, PGType.float8].contains(t) else {
                throw .schema(table: settings.table, "time_key column \"\(tk)\" has type oid \(t); use timestamp, timestamptz, integer/bigint or double precision seconds")
            }
            timeType = t
            select.append(ItemSourceSettings.quote(tk))
        } else {
            timeType = nil
        }
        if let del = settings.deleted {
            let t = try column(del, role: "deleted")
            guard t == PGType.bool else { throw .schema(table: settings.table, "deleted column \"\(del)\" must be boolean (type oid \(t))") }
            select.append(ItemSourceSettings.quote(del))
        }
        hasDeleted = settings.deleted != nil
        var features: [Feature] = []
        var missing: [String] = []
        for (f, name) in fields.enumerated() {
            guard let c = columns.first(where: { $0.name == name }) else { missing.append(name); continue }
            let scalar = PGType.element(ofArray: c.type) ?? c.type
            guard PGType.isText(scalar) || [PGType.bool, PGType.int2, PGType.int4, PGType.int8, PGType.float4, PGType.float8].contains(scalar) else {
                throw .schema(table: settings.table, "column \"\(name)\" has type oid \(c.type); item features must be integer, real, double precision, text, varchar, boolean or arrays of those (cast it in a view)")
            }
            features.append(Feature(name: name, field: f, type: c.type, numeric: numericFields.contains(name)))
            select.append(ItemSourceSettings.quote(name))
        }
        self.features = features
        missingFields = missing
        selectSQL = "SELECT " + select.joined(separator: ", ") + " FROM " + settings.quotedTable
    }

    /// Column index of the first feature in the result.
    var firstFeatureColumn: Int { 1 + (timeType == nil ? 0 : 1) + (hasDeleted ? 1 : 0) }

    func convert(_ r: PGResult, row: Int, fieldCount: Int) -> Result<Row, RowProblem> {
        if r.isNull(row: row, column: 0) { return .failure(RowProblem(key: "NULL", column: "key", reason: "the key is NULL")) }
        let keyBytes = r.bytes(row: row, column: 0)
        let id: String
        if PGType.isText(keyType) {
            id = PGBinary.text(keyBytes)
        } else {
            guard let n = try? PGBinary.integer(keyBytes) else { return .failure(RowProblem(key: "?", column: "key", reason: "malformed integer key")) }
            id = String(n)
        }
        var out = Row(id: id, values: Array(repeating: nil, count: fieldCount), timeMicros: nil, deleted: false)
        var c = 1
        if let timeType {
            if !r.isNull(row: row, column: c) {
                let b = r.bytes(row: row, column: c)
                switch timeType {
                case PGType.timestamp, PGType.timestamptz: out.timeMicros = try? PGBinary.timestampMicros(b)
                case PGType.float8: out.timeMicros = (try? PGBinary.float(b)).flatMap { Int64(exactly: ($0 * 1e6).rounded()) }
                default: out.timeMicros = (try? PGBinary.integer(b)).map { $0.multipliedReportingOverflow(by: 1_000_000).partialValue }
                }
            }
            c += 1
        }
        if hasDeleted {
            out.deleted = !r.isNull(row: row, column: c) && ((try? PGBinary.bool(r.bytes(row: row, column: c))) ?? false)
            c += 1
        }
        for (i, feature) in features.enumerated() where !r.isNull(row: row, column: c + i) {
            do {
                out.values[feature.field] = try Self.value(r.bytes(row: row, column: c + i), feature: feature)
            } catch {
                return .failure(RowProblem(key: id, column: feature.name, reason: error.reason))
            }
        }
        return .success(out)
    }

    struct ValueProblem: Error { var reason: String }

    static func value(_ b: UnsafeRawBufferPointer, feature: Feature) throws(ValueProblem) -> FeatureValue {
        do {
            if let element = PGType.element(ofArray: feature.type) {
                let (_, items) = try PGBinary.arrayElements(b)
                var present: [UnsafeRawBufferPointer] = []
                for item in items {
                    guard let item else { throw ValueProblem(reason: "the array has a NULL element") }
                    present.append(item)
                }
                if PGType.isText(element) {
                    let texts = present.map(PGBinary.text)
                    if feature.numeric {
                        return .floats(try texts.map { t throws(ValueProblem) in try number(t, feature: feature) })
                    }
                    return .strings(texts)
                }
                if element == PGType.float4 || element == PGType.float8 { return .floats(try present.map { p throws(PGBinary.Malformed) in try PGBinary.float(p) }) }
                if element == PGType.bool { return .ints(try present.map { p throws(PGBinary.Malformed) in try PGBinary.bool(p) ? 1 : 0 }) }
                return .ints(try present.map { p throws(PGBinary.Malformed) in try PGBinary.integer(p) })
            }
            switch feature.type {
            case PGType.bool: return .bool(try PGBinary.bool(b))
            case PGType.float4, PGType.float8: return .float(try PGBinary.float(b))
            case PGType.int2, PGType.int4, PGType.int8: return .int(try PGBinary.integer(b))
            default:
                let text = PGBinary.text(b)
                return feature.numeric ? .float(try number(text, feature: feature)) : .string(text)
            }
        } catch let error as ValueProblem {
            throw error
        } catch {
            throw ValueProblem(reason: "\(error)")
        }
    }

    static func number(_ text: String, feature: Feature) throws(ValueProblem) -> Double {
        guard let d = Double(text.trimmingCharacters(in: .whitespaces)), d.isFinite else {
            throw ValueProblem(reason: "\"\(text.prefix(40))\" is not a number (the column feeds a raw_feature)")
        }
        return d
    }
}

/// A failure of the item source, naming the table (and column) or the server.
public enum ItemSourceError: Error, CustomStringConvertible, Sendable {
    case schema(table: String, String)
    case database(PGError)

    public var description: String {
        switch self {
        case .schema(let table, let reason): return "item table \(table) \(reason)"
        case .database(let e): return e.description
        }
    }
}
