import Foundation
import JSON

/// Where a DataHub input starts reading, from `offset_info`.
public enum DataHubStartPosition: Sendable, Equatable {
    /// `offset_info: '{"0": {"cursor": "..."}, ...}'`: a cursor per shard (only these shards).
    case cursors([String: String])
    /// `offset_info: '{"timestamp": s}'`: per shard, the first record written at or after this unix time (seconds).
    case timestamp(seconds: Int64)
}

extension EasyRec_DatahubServer {
    /// The configured start, nil when `offset_info` is empty (every shard from its oldest record).
    /// Errors carry `offset_info` as their path.
    public func startPosition() throws(ConfigError) -> DataHubStartPosition? {
        guard hasOffsetInfo, !offsetInfo.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return try DataHubStartPosition.parse(offsetInfo: offsetInfo)
    }
}

extension DataHubStartPosition {
    /// Parses `{"<shard>": {"cursor": "..."}, ...}` or `{"timestamp": <unix seconds>}`.
    public static func parse(offsetInfo: String) throws(ConfigError) -> DataHubStartPosition {
        func bad(_ reason: String) -> ConfigError { ConfigError(.badValue, path: "offset_info", reason: reason) }
        let members = try offsetInfoMembers(offsetInfo)
        if members.count == 1, members[0].key == "timestamp" {
            let text: String
            switch members[0].value {
            case .number(let n): text = n
            case .string(let s): text = s.trimmingCharacters(in: .whitespaces)
            default: throw bad("offset_info[\"timestamp\"] must be unix seconds")
            }
            guard let d = Double(text), d >= 0, d == d.rounded(), d < 9.0e15 else {
                throw bad("offset_info[\"timestamp\"] = \(text) is not a non-negative integer")
            }
            return .timestamp(seconds: Int64(d))
        }
        var cursors: [String: String] = [:]
        for m in members {
            let shard = m.key.trimmingCharacters(in: .whitespaces)
            guard !shard.isEmpty else { throw bad("offset_info has an empty shard id") }
            guard case .object(let fields) = m.value,
                  let c = fields.first(where: { $0.key == "cursor" }), case .string(let cursor) = c.value, !cursor.isEmpty else {
                throw bad("offset_info[\"\(m.key)\"] must be {\"cursor\": \"...\"} (or use {\"timestamp\": seconds})")
            }
            cursors[shard] = cursor
        }
        return .cursors(cursors)
    }
}
