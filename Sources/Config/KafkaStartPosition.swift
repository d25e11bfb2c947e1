import Foundation
import JSON

/// Where a Kafka input starts reading, from `offset_info` / `offset_time`.
public enum KafkaStartPosition: Sendable, Equatable {
    /// `offset_info: '{"0": 5, "1": 10}'`: start offset per partition (only these partitions).
    case partitionOffsets([Int32: Int64])
    /// `offset_info: '{"timestamp": s}'` or `offset_time`: the first message at or after
    /// this unix time (seconds), per partition.
    case timestamp(seconds: Int64)
}

extension EasyRec_KafkaServer {
    /// The configured start: `offset_info` first, else `offset_time`, else nil (offset 0).
    /// Errors carry the field name (`offset_info` / `offset_time`) as their path.
    public func startPosition(timeZone: TimeZone = .current) throws(ConfigError) -> KafkaStartPosition? {
        if hasOffsetInfo, !offsetInfo.trimmingCharacters(in: .whitespaces).isEmpty {
            return try KafkaStartPosition.parse(offsetInfo: offsetInfo)
        }
        if hasOffsetTime, !offsetTime.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let s = ConfigTime.parseTimestamp(offsetTime, timeZone: timeZone) else {
                throw ConfigError(.badValue, path: "offset_time",
                                  reason: "offset_time \"\(offsetTime)\" is neither unix seconds nor \"YYYYmmdd HH:MM:SS\"")
            }
            return .timestamp(seconds: s)
        }
        return nil
    }
}

extension KafkaStartPosition {
    /// Parses an `offset_info` JSON string: `{"<partition>": <offset>, ...}` or
    /// `{"timestamp": <unix seconds>}`. Numbers may also be given as decimal strings.
    public static func parse(offsetInfo: String) throws(ConfigError) -> KafkaStartPosition {
        func bad(_ reason: String) -> ConfigError {
            ConfigError(.badValue, path: "offset_info", reason: reason)
        }
        let members = try offsetInfoMembers(offsetInfo)
        func integer(_ v: JSONValue, _ key: String) throws(ConfigError) -> Int64 {
            let text: String
            switch v {
            case .number(let n): text = n
            case .string(let s): text = s.trimmingCharacters(in: .whitespaces)
            default: throw bad("offset_info[\"\(key)\"] must be an integer")
            }
            if let i = Int64(text) { return i }
            // Accept integral floats such as 1650765731.0.
            if let d = Double(text), d == d.rounded(), abs(d) < 9.0e18 { return Int64(d) }
            throw bad("offset_info[\"\(key)\"] = \(text) is not an integer")
        }
        if members.count == 1, members[0].key == "timestamp" {
            let s = try integer(members[0].value, "timestamp")
            guard s >= 0 else { throw bad("offset_info timestamp must not be negative") }
            return .timestamp(seconds: s)
        }
        var offsets: [Int32: Int64] = [:]
        for m in members {
            guard let p = Int32(m.key.trimmingCharacters(in: .whitespaces)), p >= 0 else {
                throw bad("offset_info key \"\(m.key)\" is not a partition number (or use {\"timestamp\": seconds})")
            }
            let o = try integer(m.value, m.key)
            guard o >= 0 else { throw bad("offset_info[\"\(m.key)\"] = \(o) must not be negative") }
            offsets[p] = o
        }
        return .partitionOffsets(offsets)
    }
}

/// The members of an `offset_info` JSON object (Kafka and DataHub inputs); errors name `offset_info`.
func offsetInfoMembers(_ offsetInfo: String) throws(ConfigError) -> [JSONMember] {
    let json: JSONValue
    do throws(JSONSyntaxError) {
        json = try JSONParser.parse(offsetInfo)
    } catch {
        throw ConfigError(.badValue, path: "offset_info", reason: "offset_info is not JSON (\(error.reason) at offset \(error.offset)): \(offsetInfo)")
    }
    guard case .object(let members) = json, !members.isEmpty else {
        throw ConfigError(.badValue, path: "offset_info", reason: "offset_info must be a non-empty JSON object, got \(offsetInfo)")
    }
    return members
}
