import Foundation

/// Where a cursor points: the first kept record, the newest record, the first record written at
/// or after a time (ms), or a given sequence number.
public enum CursorType: Sendable, Equatable {
    case oldest
    case latest
    case systemTime(Int64)
    case sequence(Int64)

    /// The `Type` value of a GetCursor request.
    public var name: String {
        switch self {
        case .oldest: return "OLDEST"
        case .latest: return "LATEST"
        case .systemTime: return "SYSTEM_TIME"
        case .sequence: return "SEQUENCE"
        }
    }
}

/// A topic's record type: TUPLE (typed fields) or BLOB (bytes).
public enum RecordType: String, Sendable, Equatable {
    case tuple = "TUPLE"
    case blob = "BLOB"
}

/// One field of a TUPLE topic's schema (`type` as DataHub names it: bigint, string, double, ...).
public struct SchemaField: Sendable, Equatable {
    public var name: String
    public var type: String
    public var allowNull: Bool

    public init(name: String, type: String, allowNull: Bool = true) {
        self.name = name
        self.type = type
        self.allowNull = allowNull
    }
}

/// A TUPLE topic's schema, as the `RecordSchema` JSON string `{"fields": [{"name", "type"}, ...]}`.
public struct RecordSchema: Sendable, Equatable {
    public var fields: [SchemaField]

    public init(fields: [SchemaField]) { self.fields = fields }

    /// The JSON text carried in `RecordSchema`.
    public var jsonString: String {
        let list: [[String: Any]] = fields.map { f in
            var d: [String: Any] = ["name": f.name, "type": f.type]
            if !f.allowNull { d["notnull"] = true }
            return d
        }
        return DataHubJSON.string(["fields": list])
    }

    /// Parses the `RecordSchema` JSON text; `context` names the topic for errors.
    public init(jsonString: String, context: String) throws(DataHubError) {
        guard let obj = DataHubJSON.object(Array(jsonString.utf8)), let list = obj["fields"] as? [[String: Any]] else {
            throw DataHubError(operation: context, status: 0, code: "InvalidSchema", message: "RecordSchema is not {\"fields\": [...]}: \(jsonString)")
        }
        var out: [SchemaField] = []
        for f in list {
            guard let name = f["name"] as? String, let type = f["type"] as? String, !name.isEmpty else {
                throw DataHubError(operation: context, status: 0, code: "InvalidSchema", message: "a field lacks name or type: \(f)")
            }
            out.append(SchemaField(name: name, type: type.lowercased(), allowNull: !((f["notnull"] as? Bool) ?? false)))
        }
        fields = out
    }
}

/// What GetTopic answers that readers need.
public struct TopicInfo: Sendable, Equatable {
    public var shardCount: Int
    public var lifecycle: Int
    public var recordType: RecordType
    public var schema: RecordSchema?
}

/// One shard of a topic: ACTIVE shards take writes, CLOSED ones (after a split or merge) are
/// read to their end and then continue in their children.
public struct ShardInfo: Sendable, Equatable {
    public var id: String
    public var state: String
    public var parentIds: [String]

    public init(id: String, state: String, parentIds: [String] = []) {
        self.id = id
        self.state = state
        self.parentIds = parentIds
    }
}

/// A cursor and the record it points at (sequence, system time in ms).
public struct CursorResult: Sendable, Equatable {
    public var cursor: String
    public var sequence: Int64
    public var recordTime: Int64

    public init(cursor: String, sequence: Int64, recordTime: Int64) {
        self.cursor = cursor
        self.sequence = sequence
        self.recordTime = recordTime
    }
}

/// The payload of one record.
public enum RecordData: Sendable, Equatable {
    /// BLOB bytes.
    case blob([UInt8])
    /// TUPLE values as the JSON protocol carries them (strings; nil is null).
    case tuple([String?])
    /// A record whose `Data` did not decode (why): readers count and skip it.
    case malformed(String)
}

/// A record read from or written to a shard.
public struct DataHubRecord: Sendable, Equatable {
    public var data: RecordData
    /// Set by the service on read; ignored on write.
    public var sequence: Int64
    /// Milliseconds since 1970, set by the service on read.
    public var systemTime: Int64
    /// The shard to write to (nil: the service picks by partition key or round robin).
    public var shardId: String?
    public var partitionKey: String?
    public var attributes: [String: String]

    public init(data: RecordData, sequence: Int64 = -1, systemTime: Int64 = 0, shardId: String? = nil,
                partitionKey: String? = nil, attributes: [String: String] = [:]) {
        self.data = data
        self.sequence = sequence
        self.systemTime = systemTime
        self.shardId = shardId
        self.partitionKey = partitionKey
        self.attributes = attributes
    }

    /// The JSON protocol's `Data` value: base64 text for BLOB, a string array for TUPLE.
    public var jsonData: Any {
        switch data {
        case .blob(let b): return Data(b).base64EncodedString()
        case .tuple(let values): return values.map { $0.map { $0 as Any } ?? NSNull() }
        case .malformed: return NSNull()
        }
    }

    /// Decodes a JSON `Data` value (`context` names shard and sequence for errors).
    public static func decodeData(_ value: Any?, context: String) throws(DataHubError) -> RecordData {
        if let s = value as? String {
            guard let d = Data(base64Encoded: s) else {
                throw DataHubError(operation: context, status: 0, code: "MalformedRecord", message: "BLOB data is not base64")
            }
            return .blob([UInt8](d))
        }
        if let list = value as? [Any] {
            var out: [String?] = []
            for v in list {
                if v is NSNull { out.append(nil) } else if let s = v as? String { out.append(s) } else { out.append("\(v)") }
            }
            return .tuple(out)
        }
        throw DataHubError(operation: context, status: 0, code: "MalformedRecord", message: "Data is neither a base64 string nor an array")
    }
}

/// A GetRecords answer: the records and the cursor after the last of them.
public struct RecordBatch: Sendable, Equatable {
    public var records: [DataHubRecord]
    public var nextCursor: String
}

/// JSON helpers over Foundation's JSONSerialization (the protocol's bodies are small objects).
public enum DataHubJSON {
    /// A JSON object from bytes, nil when they are not one.
    public static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) as? [String: Any]
    }

    /// Compact JSON text of `value` ("{}" if it cannot be encoded).
    public static func string(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
              let d = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: d, as: UTF8.self)
    }

    /// An integer from a JSON number or decimal string.
    public static func int64(_ value: Any?) -> Int64? {
        if let n = value as? NSNumber { return n.int64Value }
        if let s = value as? String { return Int64(s) }
        return nil
    }
}
