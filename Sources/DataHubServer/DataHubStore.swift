import DataHub
import Digest
import Foundation
import Synchronization

/// A refused request: HTTP status and DataHub's error code and message.
public struct DataHubFault: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
}

/// The embedded endpoint's data: projects, topics (TUPLE or BLOB), shards and their records with
/// sequence numbers and system times. In memory; with a journal file every change is appended
/// to it and replayed at start, so a restarted endpoint keeps its records.
public final class DataHubStore: Sendable {
    struct Record: Sendable {
        var sequence: Int64
        var systemTime: Int64
        var data: RecordData
        var attributes: [String: String]
    }

    struct Shard: Sendable {
        var id: String
        /// Kept records (the oldest may have been dropped by `maxRecordsPerShard`).
        var records: [Record] = []
        /// Sequence of the next record written.
        var nextSequence: Int64 = 0
        var oldestSequence: Int64 { records.first?.sequence ?? nextSequence }
        /// The shard's hash-key range [begin, end) (the last shard's end is the top key, inclusive).
        var begin: UInt128 = 0
        var end: UInt128 = .max
        /// Shards it was split or merged from.
        var parents: [String] = []
        /// Set when a split or merge closed it (seconds since 1970): no more writes, readable to its end.
        var closedTime: Int64?
    }

    struct Topic: Sendable {
        var type: RecordType
        var schema: RecordSchema?
        var lifecycle: Int
        var comment: String
        var createTime: Int64
        var shards: [Shard]
        var roundRobin = 0
    }

    struct Project: Sendable {
        var comment: String
        var createTime: Int64
        var topics: [String: Topic] = [:]
    }

    struct State: Sendable {
        var projects: [String: Project] = [:]
    }

    private let state = Mutex(State())
    private let journal: Mutex<FileHandle?>
    /// Records kept per shard before the oldest are dropped (0: keep all).
    public let maxRecordsPerShard: Int
    /// Milliseconds since 1970 for new records (tests may pin it).
    let clock: @Sendable () -> Int64

    /// `journalPath`: replayed if it exists, then appended to (nil: memory only).
    public init(journalPath: String? = nil, maxRecordsPerShard: Int = 0,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) throws(DataHubFault) {
        self.maxRecordsPerShard = max(0, maxRecordsPerShard)
        self.clock = clock
        journal = Mutex(nil)
        guard let journalPath else { return }
        if let text = try? String(contentsOfFile: journalPath, encoding: .utf8) {
            var lineNumber = 0
            for line in text.split(separator: "\n") {
                lineNumber += 1
                guard let o = DataHubJSON.object(Array(line.utf8)) else {
                    throw DataHubFault(500, "InternalServerError", "journal \(journalPath) line \(lineNumber) is not JSON")
                }
                do { try replay(o) } catch {
                    throw DataHubFault(500, "InternalServerError", "journal \(journalPath) line \(lineNumber): \(error.message)")
                }
            }
        } else if !FileManager.default.createFile(atPath: journalPath, contents: nil) {
            throw DataHubFault(500, "InternalServerError", "cannot create journal \(journalPath)")
        }
        guard let h = FileHandle(forWritingAtPath: journalPath) else {
            throw DataHubFault(500, "InternalServerError", "cannot open journal \(journalPath)")
        }
        h.seekToEndOfFile()
        journal.withLock { $0 = h }
    }

    func append(_ lines: [[String: Any]]) {
        guard !lines.isEmpty else { return }
        let text = lines.map { DataHubJSON.string($0) + "\n" }.joined()
        journal.withLock { $0?.write(Data(text.utf8)) }
    }

    // MARK: projects and topics

    public func createProject(_ name: String, comment: String) throws(DataHubFault) {
        try state.withLock { (s: inout State) throws(DataHubFault) in
            guard Self.validName(name) else { throw DataHubFault(400, "InvalidParameter", "invalid project name \"\(name)\"") }
            guard s.projects[name] == nil else { throw DataHubFault(400, "ProjectAlreadyExist", "project \(name) already exists") }
            s.projects[name] = Project(comment: comment, createTime: clock() / 1000)
        }
        append([["op": "project", "name": name, "comment": comment]])
    }

    public func project(_ name: String) throws(DataHubFault) -> (comment: String, createTime: Int64, topics: [String]) {
        try state.withLock { (s: inout State) throws(DataHubFault) in
            guard let p = s.projects[name] else { throw DataHubFault(404, "NoSuchProject", "project \(name) does not exist") }
            return (p.comment, p.createTime, p.topics.keys.sorted())
        }
    }

    public func projectNames() -> [String] { state.withLock { $0.projects.keys.sorted() } }

    public func createTopic(project: String, topic: String, shardCount: Int, lifecycle: Int, type: RecordType,
                            schema: RecordSchema?, comment: String) throws(DataHubFault) {
        try state.withLock { (s: inout State) throws(DataHubFault) in
            guard s.projects[project] != nil else { throw DataHubFault(404, "NoSuchProject", "project \(project) does not exist") }
            guard Self.validName(topic) else { throw DataHubFault(400, "InvalidParameter", "invalid topic name \"\(topic)\"") }
            guard s.projects[project]?.topics[topic] == nil else {
                throw DataHubFault(400, "TopicAlreadyExist", "topic \(project)/\(topic) already exists")
            }
            guard (1...256).contains(shardCount) else { throw DataHubFault(400, "InvalidParameter", "ShardCount \(shardCount) must be 1...256") }
            if type == .tuple, (schema?.fields.isEmpty ?? true) {
                throw DataHubFault(400, "InvalidSchema", "a TUPLE topic needs a RecordSchema with fields")
            }
            let shards = Self.initialShards(shardCount)
            s.projects[project]?.topics[topic] = Topic(type: type, schema: type == .tuple ? schema : nil, lifecycle: lifecycle,
                                                       comment: comment, createTime: clock() / 1000, shards: shards)
        }
        var line: [String: Any] = ["op": "topic", "project": project, "topic": topic, "shards": shardCount,
                                   "lifecycle": lifecycle, "type": type.rawValue, "comment": comment]
        if let schema { line["schema"] = schema.jsonString }
        append([line])
    }

    func withTopic<T>(_ project: String, _ topic: String, _ body: (inout Topic) throws(DataHubFault) -> T) throws(DataHubFault) -> T {
        try state.withLock { (s: inout State) throws(DataHubFault) -> T in
            guard s.projects[project] != nil else { throw DataHubFault(404, "NoSuchProject", "project \(project) does not exist") }
            guard var t = s.projects[project]?.topics[topic] else {
                throw DataHubFault(404, "NoSuchTopic", "topic \(project)/\(topic) does not exist")
            }
            let result = try body(&t)
            s.projects[project]?.topics[topic] = t
            return result
        }
    }

    /// Whether the topic exists (e.g. replayed from the journal).
    public func hasTopic(project: String, topic: String) -> Bool {
        state.withLock { $0.projects[project]?.topics[topic] != nil }
    }

    func topicInfo(project: String, topic: String) throws(DataHubFault) -> Topic {
        try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in t }
    }

    static func shardIndex(_ t: Topic, _ shard: String, _ name: String) throws(DataHubFault) -> Int {
        guard let i = t.shards.firstIndex(where: { $0.id == shard }) else {
            throw DataHubFault(404, "NoSuchShard", "shard \(shard) of \(name) does not exist")
        }
        return i
    }

    static func validName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, CharacterSet.letters.contains(first), name.count <= 128 else { return false }
        return name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
    }

    // MARK: records

    /// Writes records; returns (index, code, message) of each refused record.
    public func put(project: String, topic: String, _ records: [DataHubRecord]) throws(DataHubFault) -> [(Int, String, String)] {
        var failed: [(Int, String, String)] = []
        var lines: [[String: Any]] = []
        try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
            let now = clock()
            for (index, r) in records.enumerated() {
                if case .malformed(let why) = r.data { failed.append((index, "MalformedRecord", why)); continue }
                if t.type == .tuple {
                    guard case .tuple(let values) = r.data, values.count == t.schema?.fields.count else {
                        failed.append((index, "MalformedRecord", "record \(index) does not have the \(t.schema?.fields.count ?? 0) fields of the schema"))
                        continue
                    }
                } else if case .tuple = r.data {
                    failed.append((index, "MalformedRecord", "record \(index) is TUPLE data on a BLOB topic"))
                    continue
                }
                let shardIndex: Int
                if let id = r.shardId {
                    guard let i = t.shards.firstIndex(where: { $0.id == id }) else {
                        failed.append((index, "NoSuchShard", "shard \(id) does not exist")); continue
                    }
                    guard t.shards[i].closedTime == nil else {
                        failed.append((index, "InvalidShardOperation", "shard \(id) is CLOSED (split or merged): write to its children")); continue
                    }
                    shardIndex = i
                } else {
                    let active = t.shards.indices.filter { t.shards[$0].closedTime == nil }
                    guard !active.isEmpty else { failed.append((index, "InvalidShardOperation", "no ACTIVE shard")); continue }
                    if let key = r.partitionKey {
                        shardIndex = active[Int(HMACSHA1.sha1(Array(key.utf8))[0]) % active.count]
                    } else {
                        shardIndex = active[t.roundRobin % active.count]
                        t.roundRobin += 1
                    }
                }
                let seq = t.shards[shardIndex].nextSequence
                let stored = Record(sequence: seq, systemTime: now, data: r.data, attributes: r.attributes)
                t.shards[shardIndex].records.append(stored)
                t.shards[shardIndex].nextSequence += 1
                if maxRecordsPerShard > 0, t.shards[shardIndex].records.count > maxRecordsPerShard {
                    t.shards[shardIndex].records.removeFirst(t.shards[shardIndex].records.count - maxRecordsPerShard)
                }
                var line: [String: Any] = ["op": "record", "project": project, "topic": topic, "shard": t.shards[shardIndex].id,
                                           "seq": seq, "time": now, "data": r.jsonData]
                if !r.attributes.isEmpty { line["attrs"] = r.attributes }
                lines.append(line)
            }
        }
        append(lines)
        return failed
    }

    /// A cursor of `shard`, and the sequence and system time of the record it points at.
    public func cursor(project: String, topic: String, shard: String, _ type: CursorType) throws(DataHubFault) -> CursorResult {
        try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
            let i = try Self.shardIndex(t, shard, "\(project)/\(topic)")
            let s = t.shards[i]
            let seq: Int64
            switch type {
            case .oldest: seq = s.oldestSequence
            case .latest: seq = max(s.oldestSequence, s.nextSequence - 1)
            case .sequence(let q):
                guard q >= s.oldestSequence, q <= s.nextSequence else {
                    throw DataHubFault(400, "SeekOutOfRange", "sequence \(q) is outside [\(s.oldestSequence), \(s.nextSequence)] of shard \(shard)")
                }
                seq = q
            case .systemTime(let ms):
                seq = s.records.first(where: { $0.systemTime >= ms })?.sequence ?? s.nextSequence
            }
            let time = s.records.first(where: { $0.sequence == seq })?.systemTime ?? 0
            return CursorResult(cursor: DataHubCursor.encode(shard: i, sequence: seq), sequence: seq, recordTime: time)
        }
    }

    /// Up to `limit` records from `cursor` and the cursor after them.
    public func read(project: String, topic: String, shard: String, cursor: String, limit: Int) throws(DataHubFault)
        -> (records: [DataHubRecord], next: String, type: RecordType) {
        try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
            let i = try Self.shardIndex(t, shard, "\(project)/\(topic)")
            guard let c = DataHubCursor.decode(cursor), c.shard == i else {
                throw DataHubFault(400, "InvalidCursor", "cursor \(cursor) is not a cursor of shard \(shard)")
            }
            let s = t.shards[i]
            guard c.sequence >= s.oldestSequence else {
                throw DataHubFault(400, "InvalidCursor", "cursor \(cursor) is expired: sequence \(c.sequence) is older than the oldest kept, \(s.oldestSequence)")
            }
            guard c.sequence <= s.nextSequence else {
                throw DataHubFault(400, "InvalidCursor", "cursor \(cursor) points past the end of shard \(shard)")
            }
            if s.closedTime != nil, c.sequence == s.nextSequence {
                throw DataHubFault(400, "InvalidShardOperation", "shard \(shard) of \(project)/\(topic) is sealed: CLOSED and read to its end")
            }
            let start = Int(c.sequence - s.oldestSequence)
            let n = max(0, min(limit, s.records.count - start))
            let slice = s.records[start..<(start + n)].map {
                DataHubRecord(data: $0.data, sequence: $0.sequence, systemTime: $0.systemTime, attributes: $0.attributes)
            }
            return (slice, DataHubCursor.encode(shard: i, sequence: c.sequence + Int64(n)), t.type)
        }
    }

    func shards(project: String, topic: String) throws(DataHubFault) -> [Shard] {
        try topicInfo(project: project, topic: topic).shards
    }

    // MARK: journal replay

    private func replay(_ o: [String: Any]) throws(DataHubFault) {
        switch o["op"] as? String {
        case "project":
            try state.withLock { (s: inout State) throws(DataHubFault) in
                guard let name = o["name"] as? String else { throw DataHubFault(500, "InternalServerError", "project without name") }
                s.projects[name] = Project(comment: o["comment"] as? String ?? "", createTime: clock() / 1000)
            }
        case "topic":
            guard let project = o["project"] as? String, let topic = o["topic"] as? String,
                  let type = (o["type"] as? String).flatMap(RecordType.init(rawValue:)),
                  let shards = DataHubJSON.int64(o["shards"]) else { throw DataHubFault(500, "InternalServerError", "topic entry incomplete") }
            let schema: RecordSchema?
            if let text = o["schema"] as? String {
                do { schema = try RecordSchema(jsonString: text, context: "journal") } catch { throw DataHubFault(500, "InternalServerError", error.description) }
            } else { schema = nil }
            try state.withLock { (s: inout State) throws(DataHubFault) in
                guard s.projects[project] != nil else { throw DataHubFault(500, "InternalServerError", "topic of unknown project \(project)") }
                s.projects[project]?.topics[topic] = Topic(type: type, schema: schema, lifecycle: Int(DataHubJSON.int64(o["lifecycle"]) ?? 1),
                                                           comment: o["comment"] as? String ?? "", createTime: clock() / 1000,
                                                           shards: Self.initialShards(Int(shards)))
            }
        case "record":
            guard let project = o["project"] as? String, let topic = o["topic"] as? String, let shard = o["shard"] as? String,
                  let seq = DataHubJSON.int64(o["seq"]), let time = DataHubJSON.int64(o["time"]) else {
                throw DataHubFault(500, "InternalServerError", "record entry incomplete")
            }
            let data: RecordData
            do { data = try DataHubRecord.decodeData(o["data"], context: "journal") } catch { throw DataHubFault(500, "InternalServerError", error.description) }
            var attrs: [String: String] = [:]
            if let a = o["attrs"] as? [String: String] { attrs = a }
            try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
                let i = try Self.shardIndex(t, shard, "\(project)/\(topic)")
                t.shards[i].records.append(Record(sequence: seq, systemTime: time, data: data, attributes: attrs))
                t.shards[i].nextSequence = seq + 1
                if maxRecordsPerShard > 0, t.shards[i].records.count > maxRecordsPerShard {
                    t.shards[i].records.removeFirst(t.shards[i].records.count - maxRecordsPerShard)
                }
            }
        case "split", "merge":
            try replayShardChange(o)
        default:
            throw DataHubFault(500, "InternalServerError", "unknown journal entry \(o["op"] ?? "nil")")
        }
    }
}

/// The endpoint's cursors: 32 hex digits holding a format mark, the shard index, the sequence and a check.
enum DataHubCursor {
    static func encode(shard: Int, sequence: Int64) -> String {
        let check = (UInt64(bitPattern: sequence) ^ UInt64(shard) &* 0x9E37) & 0xffff
        return "30" + hex(UInt64(shard), 6) + hex(UInt64(bitPattern: sequence), 20) + hex(check, 4)
    }

    static func decode(_ text: String) -> (shard: Int, sequence: Int64)? {
        let chars = Array(text.lowercased())
        guard chars.count == 32, chars[0] == "3", chars[1] == "0",
              let shard = UInt64(String(chars[2..<8]), radix: 16),
              let seq = UInt64(String(chars[8..<28]), radix: 16),
              let check = UInt64(String(chars[28..<32]), radix: 16),
              check == (seq ^ shard &* 0x9E37) & 0xffff, seq < UInt64(Int64.max) else { return nil }
        return (Int(shard), Int64(seq))
    }

    private static func hex(_ v: UInt64, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
