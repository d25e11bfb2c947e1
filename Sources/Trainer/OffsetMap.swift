import Foundation

/// Per-partition Kafka offsets as stored in JSON files (`model.ckpt-N.offset`, index.json,
/// `offset_info`): `{"<partition>": <offset>, ...}`. DataHub input also saves the cursor of the
/// next unread record: `{"<shard>": {"cursor": "...", "sequence": <next unread sequence>}, ...}`
/// (the `offset_info` cursor form); both forms are read.
public enum OffsetMap {
    /// Encodes offsets as a JSON object with partition keys in ascending order.
    public static func encode(_ offsets: [Int32: Int64]) -> String {
        "{" + offsets.keys.sorted().map { "\"\($0)\": \(offsets[$0] ?? 0)" }.joined(separator: ", ") + "}"
    }

    /// Encodes offsets with cursors (the object form) for the partitions that have one.
    public static func encode(_ offsets: [Int32: Int64], cursors: [Int32: String]) -> String {
        guard !cursors.isEmpty else { return encode(offsets) }
        return "{" + offsets.keys.sorted().map { p in
            let offset = offsets[p] ?? 0
            guard let c = cursors[p], let quoted = quote(c) else { return "\"\(p)\": \(offset)" }
            return "\"\(p)\": {\"cursor\": \(quoted), \"sequence\": \(offset)}"
        }.joined(separator: ", ") + "}"
    }

    static func quote(_ s: String) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed]),
              let text = String(data: data, encoding: .utf8) else { return nil }
        return String(text.dropFirst().dropLast())
    }

    /// Decodes `{"0": 5, "1": "10"}` (numbers or decimal strings). `source` names the file or field for errors.
    public static func decode(_ text: String, source: String) throws -> [Int32: Int64] {
        try decodeWithCursors(text, source: source).offsets
    }

    /// Decodes both forms: plain offsets, and `{"cursor": "...", "sequence": n}` objects.
    public static func decodeWithCursors(_ text: String, source: String) throws -> (offsets: [Int32: Int64], cursors: [Int32: String]) {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainerError.config(field: source, reason: "not a JSON object: \(text)")
        }
        var out: [Int32: Int64] = [:]
        var cursors: [Int32: String] = [:]
        for (key, entry) in object {
            guard let partition = Int32(key), partition >= 0 else {
                throw TrainerError.config(field: source, reason: "partition key \"\(key)\" is not a partition number")
            }
            var value = entry
            if let o = entry as? [String: Any] {
                guard let cursor = o["cursor"] as? String, !cursor.isEmpty, let sequence = o["sequence"] else {
                    throw TrainerError.config(field: source, reason: "entry of shard \(key) needs a \"cursor\" string and a \"sequence\": \(entry)")
                }
                cursors[partition] = cursor
                value = sequence
            }
            guard let offset = int64(value), offset >= 0 else {
                throw TrainerError.config(field: source, reason: "offset of partition \(key) is not a non-negative integer: \(value)")
            }
            out[partition] = offset
        }
        return (out, cursors)
    }

    /// Reads an offset file; `nil` when it does not exist.
    public static func read(path: String) throws -> [Int32: Int64]? {
        try readWithCursors(path: path)?.offsets
    }

    /// Reads an offset file of either form; `nil` when it does not exist.
    public static func readWithCursors(path: String) throws -> (offsets: [Int32: Int64], cursors: [Int32: String])? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TrainerError.checkpoint(path: path, reason: "cannot read offset file")
        }
        return try decodeWithCursors(text, source: path)
    }

    static func int64(_ value: Any) -> Int64? {
        if let n = value as? NSNumber {
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.2e18 else { return nil }
            return n.int64Value
        }
        if let s = value as? String { return Int64(s.trimmingCharacters(in: .whitespaces)) }
        return nil
    }
}
