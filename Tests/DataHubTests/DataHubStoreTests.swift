import DataHub
import Foundation
import Synchronization
import Testing
@testable import DataHubServer

@Suite struct DataHubStoreTests {
    func store(journal: String? = nil, keep: Int = 0, clock: @escaping @Sendable () -> Int64 = { 1_000_000 }) throws -> DataHubStore {
        try DataHubStore(journalPath: journal, maxRecordsPerShard: keep, clock: clock)
    }

    func blobs(_ n: Int, shard: String) -> [DataHubRecord] {
        (0..<n).map { DataHubRecord(data: .blob(Array("line \($0)".utf8)), shardId: shard) }
    }

    /// OLDEST, LATEST, SEQUENCE and SYSTEM_TIME cursors point where DataHub's do; reads continue at NextCursor.
    @Test func cursorsAndReads() throws {
        let now = TestClock(0)
        let s = try store(clock: { now.value })
        try s.createProject("p", comment: "")
        try s.createTopic(project: "p", topic: "t", shardCount: 2, lifecycle: 1, type: .blob, schema: nil, comment: "")
        now.value = 5_000
        #expect(try s.put(project: "p", topic: "t", blobs(3, shard: "1")).isEmpty)
        now.value = 9_000
        #expect(try s.put(project: "p", topic: "t", blobs(2, shard: "1")).isEmpty)
        #expect(try s.cursor(project: "p", topic: "t", shard: "1", .oldest).sequence == 0)
        #expect(try s.cursor(project: "p", topic: "t", shard: "1", .latest).sequence == 4)
        #expect(try s.cursor(project: "p", topic: "t", shard: "1", .systemTime(6_000)).sequence == 3)
        #expect(try s.cursor(project: "p", topic: "t", shard: "1", .systemTime(99_000)).sequence == 5)
        #expect(try s.cursor(project: "p", topic: "t", shard: "0", .oldest).sequence == 0)
        let c = try s.cursor(project: "p", topic: "t", shard: "1", .sequence(1))
        let first = try s.read(project: "p", topic: "t", shard: "1", cursor: c.cursor, limit: 2)
        #expect(first.records.map(\.sequence) == [1, 2])
        #expect(first.records.first?.data == .blob(Array("line 1".utf8)))
        let rest = try s.read(project: "p", topic: "t", shard: "1", cursor: first.next, limit: 10)
        #expect(rest.records.map(\.sequence) == [3, 4])
        #expect(rest.records.map(\.systemTime) == [9_000, 9_000])
        #expect(try s.read(project: "p", topic: "t", shard: "1", cursor: rest.next, limit: 10).records.isEmpty)
        #expect(throws: DataHubFault.self) { try s.cursor(project: "p", topic: "t", shard: "1", .sequence(9)) }
        #expect(throws: DataHubFault.self) { try s.read(project: "p", topic: "t", shard: "0", cursor: c.cursor, limit: 1) }
        #expect(throws: DataHubFault.self) { try s.read(project: "p", topic: "t", shard: "1", cursor: "30zz", limit: 1) }
    }

    /// TUPLE records must have the schema's field count; refused ones are reported by index, the rest are written.
    @Test func tupleRecordsAreCheckedAgainstTheSchema() throws {
        let s = try store()
        try s.createProject("p", comment: "")
        let schema = RecordSchema(fields: [SchemaField(name: "a", type: "string"), SchemaField(name: "b", type: "bigint")])
        try s.createTopic(project: "p", topic: "t", shardCount: 1, lifecycle: 1, type: .tuple, schema: schema, comment: "")
        let failed = try s.put(project: "p", topic: "t", [DataHubRecord(data: .tuple(["x", "1"])), DataHubRecord(data: .tuple(["y"])),
                                                         DataHubRecord(data: .blob([1]))])
        #expect(failed.map(\.0) == [1, 2])
        #expect(failed.allSatisfy { $0.1 == "MalformedRecord" })
        #expect(try s.cursor(project: "p", topic: "t", shard: "0", .latest).sequence == 0)
        #expect(throws: DataHubFault.self) {
            try s.createTopic(project: "p", topic: "t", shardCount: 1, lifecycle: 1, type: .blob, schema: nil, comment: "")
        }
        #expect(throws: DataHubFault.self) { try s.put(project: "p", topic: "nope", []) }
    }

    /// Past maxRecordsPerShard the oldest records expire: OLDEST moves on and an old cursor is refused, not silently advanced.
    @Test func expiredCursorIsRefused() throws {
        let s = try store(keep: 3)
        try s.createProject("p", comment: "")
        try s.createTopic(project: "p", topic: "t", shardCount: 1, lifecycle: 1, type: .blob, schema: nil, comment: "")
        _ = try s.put(project: "p", topic: "t", blobs(2, shard: "0"))
        let early = try s.cursor(project: "p", topic: "t", shard: "0", .oldest)
        _ = try s.put(project: "p", topic: "t", blobs(4, shard: "0"))
        #expect(try s.cursor(project: "p", topic: "t", shard: "0", .oldest).sequence == 3)
        do {
            _ = try s.read(project: "p", topic: "t", shard: "0", cursor: early.cursor, limit: 1)
            Issue.record("an expired cursor was accepted")
        } catch {
            #expect(error.code == "InvalidCursor")
            #expect(error.message.contains("expired"))
        }
    }

    /// A journal replays projects, topics and records with their sequences and times; writes continue after them.
    @Test func journalReplays() throws {
        let path = NSTemporaryDirectory() + "odl-dh-journal-\(UUID().uuidString.prefix(8)).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let s = try store(journal: path, clock: { 42_000 })
            try s.createProject("p", comment: "c")
            let schema = RecordSchema(fields: [SchemaField(name: "a", type: "string")])
            try s.createTopic(project: "p", topic: "t", shardCount: 2, lifecycle: 3, type: .tuple, schema: schema, comment: "")
            _ = try s.put(project: "p", topic: "t", [DataHubRecord(data: .tuple(["x"]), shardId: "1"), DataHubRecord(data: .tuple([nil]), shardId: "1")])
        }
        let again = try store(journal: path, clock: { 50_000 })
        let c = try again.cursor(project: "p", topic: "t", shard: "1", .oldest)
        let r = try again.read(project: "p", topic: "t", shard: "1", cursor: c.cursor, limit: 10)
        #expect(r.records.map(\.data) == [.tuple(["x"]), .tuple([nil])])
        #expect(r.records.map(\.systemTime) == [42_000, 42_000])
        _ = try again.put(project: "p", topic: "t", [DataHubRecord(data: .tuple(["z"]), shardId: "1")])
        #expect(try again.cursor(project: "p", topic: "t", shard: "1", .latest).sequence == 2)
        #expect(try again.topicInfo(project: "p", topic: "t").schema?.fields.map(\.name) == ["a"])
    }

    /// LZ4 block decoding: literals, an overlapping match, long lengths; malformed input is an error.
    @Test func lz4Block() throws {
        // "abc" then a match at offset 3 of length 12: "abcabcabcabcabc".
        #expect(try LZ4Block.decompress([0x38, 0x61, 0x62, 0x63, 0x03, 0x00], rawSize: 15) == Array("abcabcabcabcabc".utf8))
        // 1 literal "a", a match of 4 + 15 + 10 = 29 at offset 1, then literals "bc".
        let long = try LZ4Block.decompress([0x1F, 0x61, 0x01, 0x00, 0x0A, 0x20, 0x62, 0x63], rawSize: 32)
        #expect(long == Array(String(repeating: "a", count: 30).utf8) + Array("bc".utf8))
        #expect(throws: LZ4Block.Malformed.self) { try LZ4Block.decompress([0x38, 0x61, 0x62, 0x63, 0x09, 0x00], rawSize: 15) }
        #expect(throws: LZ4Block.Malformed.self) { try LZ4Block.decompress([0x50, 0x61], rawSize: 5) }
        #expect(throws: LZ4Block.Malformed.self) { try LZ4Block.decompress([0x38, 0x61, 0x62, 0x63, 0x03, 0x00], rawSize: 14) }
    }

    /// The string signed follows the SDK: method, Content-Type, Date, sorted x-datahub-* headers, decoded path and sorted query.
    @Test func canonicalString() {
        let c = DataHubSignature.canonical(method: "POST", contentType: "application/json", date: "Thu, 03 Dec 2026 06:00:00 GMT",
                                           headers: [(name: "X-Datahub-Request-Action", value: "sub"), (name: "x-datahub-client-version", value: "1.1"),
                                                     (name: "User-Agent", value: "x")],
                                           path: "/projects/p/topics/t%20x", query: "b=2&a&c=1")
        #expect(c == "POST\napplication/json\nThu, 03 Dec 2026 06:00:00 GMT\nx-datahub-client-version:1.1\nx-datahub-request-action:sub\n/projects/p/topics/t x?a&b=2&c=1")
        // RFC 2202 test case 2 through the signature helper: base64 of HMAC-SHA1("Jefe", ...).
        #expect(DataHubSignature.sign("what do ya want for nothing?", secret: "Jefe") == "7/zfauXrL6LSdBbV8YTfnCWafHk=")
    }

    @Test func cursorEncodingRoundTrips() {
        for (shard, seq) in [(0, Int64(0)), (3, 17), (255, 1 << 40)] {
            let c = DataHubCursor.encode(shard: shard, sequence: seq)
            #expect(c.count == 32)
            #expect(DataHubCursor.decode(c)?.shard == shard)
            #expect(DataHubCursor.decode(c)?.sequence == seq)
        }
        var tampered = Array(DataHubCursor.encode(shard: 1, sequence: 5))
        tampered[27] = tampered[27] == "0" ? "1" : "0"
        #expect(DataHubCursor.decode(String(tampered)) == nil)
    }
}

/// A settable clock value for the store's tests.
final class TestClock: Sendable {
    private let state: Mutex<Int64>
    init(_ v: Int64) { state = Mutex(v) }
    var value: Int64 {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
