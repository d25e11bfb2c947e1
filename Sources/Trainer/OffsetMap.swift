import Foundation

/// Per-partition Kafka offsets as stored in JSON files (`model.ckpt-N.offset`, index.json,
/// `offset_info`): `{"<partition>": <offset>, ...}`.
public enum OffsetMap {
    /// Encodes offsets as a JSON object with partition keys in ascending order.
    public static func encode(_ offsets: [Int32: Int64]) -> String {
        "{" + offsets.keys.sorted().map { "\"\($0)\": \(offsets[$0] ?? 0)" }.joined(separator: ", ") + "}"
    }

    /// Decodes `{"0": 5, "1": "10"}` (numbers or decimal strings). `source` names the file or field for errors.
    public static func decode(_ text: String, source: String) throws -> [Int32: Int64] {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TrainerError.config(field: source, reason: "not a JSON object: \(text)")
        }
        var out: [Int32: Int64] = [:]
        for (key, value) in object {
            guard let partition = Int32(key), partition >= 0 else {
                throw TrainerError.config(field: source, reason: "partition key \"\(key)\" is not a partition number")
            }
            guard let offset = int64(value), offset >= 0 else {
                throw TrainerError.config(field: source, reason: "offset of partition \(key) is not a non-negative integer: \(value)")
            }
            out[partition] = offset
        }
        return out
    }

    /// Reads an offset file; `nil` when it does not exist.
    public static func read(path: String) throws -> [Int32: Int64]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TrainerError.checkpoint(path: path, reason: "cannot read offset file")
        }
        return try decode(text, source: path)
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
