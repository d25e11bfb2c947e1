import DataHub
import Foundation
import Synchronization
import Testing

/// The official Python SDK (pydatahub, unchanged, its default JSON protocol and LZ4 request
/// compression) against `odl datahub`: the endpoint speaks DataHub's protocol, and what the SDK
/// writes the Swift client reads back (and the other way round).
@Suite(.serialized) struct PyDataHubInteropTests {
    static let script = #"""
import sys, time
from datahub import DataHub
from datahub.exceptions import ResourceExistException, AuthorizationFailedException, ShardSealedException
from datahub.models import RecordSchema, FieldType, TupleRecord, BlobRecord, CursorType, ShardState

endpoint = sys.argv[1]
dh = DataHub("ak", "sk", endpoint)
dh.create_project("pyproj", "interop")
try:
    dh.create_project("pyproj", "again")
    raise SystemExit("second create_project did not fail")
except ResourceExistException:
    pass
assert "pyproj" in dh.list_project().project_names
schema = RecordSchema.from_lists(["label", "user", "price"], [FieldType.BIGINT, FieldType.STRING, FieldType.DOUBLE])
dh.create_tuple_topic("pyproj", "tuples", 2, 1, schema, "interop")
dh.wait_shards_ready("pyproj", "tuples")
topic = dh.get_topic("pyproj", "tuples")
assert [f.name for f in topic.record_schema.field_list] == ["label", "user", "price"], topic.record_schema
records = []
for i in range(40):
    r = TupleRecord(schema=topic.record_schema, values=[i % 2, "u%d" % i, i * 0.5])
    r.shard_id = str(i % 2)
    r.put_attribute("key", "s%d" % i)
    records.append(r)
result = dh.put_records("pyproj", "tuples", records)
assert result.failed_record_count == 0, result
shards = [s.shard_id for s in dh.list_shard("pyproj", "tuples").shards]
assert shards == ["0", "1"], shards
seen = []
for shard in shards:
    cursor = dh.get_cursor("pyproj", "tuples", shard, CursorType.OLDEST).cursor
    while True:
        got = dh.get_tuple_records("pyproj", "tuples", shard, topic.record_schema, cursor, 7)
        if got.record_count == 0:
            break
        for r in got.records:
            seen.append((shard, r.sequence, r.values[0], r.values[1], r.values[2], r.attributes.get("key")))
        cursor = got.next_cursor
assert len(seen) == 40, len(seen)
for shard, seq, label, user, price, key in seen:
    i = int(user[1:])
    assert shard == str(i % 2) and seq == i // 2 and label == i % 2 and price == i * 0.5 and key == "s%d" % i, (shard, seq, label, user, price, key)
seq_cursor = dh.get_cursor("pyproj", "tuples", "1", CursorType.SEQUENCE, 5)
assert seq_cursor.sequence == 5
first = dh.get_tuple_records("pyproj", "tuples", "1", topic.record_schema, seq_cursor.cursor, 1).records[0]
assert first.values[1] == "u11", first.values
latest = dh.get_cursor("pyproj", "tuples", "0", CursorType.LATEST)
assert latest.sequence == 19, latest.sequence
t = dh.get_cursor("pyproj", "tuples", "0", CursorType.SYSTEM_TIME, int(time.time() * 1000) - 60000)
assert t.sequence == 0, t.sequence
dh.create_blob_topic("pyproj", "blobs", 1, 1, "interop")
dh.put_records("pyproj", "blobs", [BlobRecord(blob_data=b"1,u1,i1,0.5") for _ in range(3)])
c = dh.get_cursor("pyproj", "blobs", "0", CursorType.OLDEST).cursor
blobs = dh.get_blob_records("pyproj", "blobs", "0", c, 10)
assert [r.blob_data for r in blobs.records] == [b"1,u1,i1,0.5"] * 3
dh.create_blob_topic("pyproj", "splits", 2, 1, "interop")
before = [BlobRecord(blob_data=b"before") for _ in range(2)]
for r in before:
    r.shard_id = "0"
dh.put_records("pyproj", "splits", before)
new = [s.shard_id for s in dh.split_shard("pyproj", "splits", "0").new_shards]
assert new == ["2", "3"], new
listed = {s.shard_id: s for s in dh.list_shard("pyproj", "splits").shards}
assert listed["0"].state == ShardState.CLOSED and listed["2"].parent_shard_ids == ["0"], listed["2"].parent_shard_ids
assert listed["2"].begin_hash_key == listed["0"].begin_hash_key and listed["3"].end_hash_key == listed["0"].end_hash_key
c = dh.get_cursor("pyproj", "splits", "0", CursorType.OLDEST).cursor
got = dh.get_blob_records("pyproj", "splits", "0", c, 10)
assert [r.blob_data for r in got.records] == [b"before"] * 2
try:
    dh.get_blob_records("pyproj", "splits", "0", got.next_cursor, 10)
    raise SystemExit("reading past the end of a CLOSED shard was not refused")
except ShardSealedException:
    pass
try:
    merged = dh.merge_shard("pyproj", "splits", "3", "1")
    assert merged.shard_id == "4" and merged.begin_hash_key == listed["3"].begin_hash_key, merged.shard_id
except TypeError as e:
    # pydatahub's MergeShardResult.__init__ calls object.__init__ with an argument: the SDK cannot build its own
    # result object, whatever the service answers. The merge itself is checked through list_shard below.
    assert "object.__init__()" in str(e), e
listed = {s.shard_id: s for s in dh.list_shard("pyproj", "splits").shards}
assert [listed[i].state for i in "01234"] == [ShardState.CLOSED, ShardState.CLOSED, ShardState.ACTIVE, ShardState.CLOSED, ShardState.ACTIVE]
assert listed["4"].parent_shard_ids == ["3", "1"], listed["4"].parent_shard_ids
try:
    DataHub("ak", "wrong", endpoint).list_project()
    raise SystemExit("a wrong key was accepted")
except AuthorizationFailedException:
    pass
print("INTEROP OK")
"""#

    @Test func officialPythonSDKRoundTrip() throws {
        guard FileManager.default.isExecutableFile(atPath: datahubPython) else {
            Issue.record("pydatahub venv missing at \(datahubPython): run `make datahub-venv` (make test does)")
            return
        }
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        let scriptPath = dir + "/interop.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let py = try runPython([scriptPath, endpoint.url])
        #expect(py.status == 0, "python output: \(py.output)\nendpoint: \(endpoint.child.output)")
        #expect(py.output.contains("INTEROP OK"), "python output: \(py.output)")

        // What the SDK wrote, the Swift client reads: the same values, sequences and attributes.
        let client = DataHubClient(endpoint: endpoint.url, accessId: "ak", accessKey: "sk")
        let info = try client.getTopic(project: "pyproj", topic: "tuples")
        #expect(info.recordType == .tuple)
        #expect(info.schema?.fields.map(\.type) == ["bigint", "string", "double"])
        let c = try client.getCursor(project: "pyproj", topic: "tuples", shard: "1", .oldest)
        let batch = try client.getRecords(project: "pyproj", topic: "tuples", shard: "1", cursor: c.cursor, limit: 100)
        #expect(batch.records.count == 20)
        #expect(batch.records.first?.data == .tuple(["1", "u1", "5.e-01"]))
        #expect(batch.records.first?.attributes["key"] == "s1")
        #expect(batch.records.map(\.sequence) == Array(0..<20))

        // And what the Swift client writes, the SDK reads.
        try client.putRecords(project: "pyproj", topic: "blobs", [DataHubRecord(data: .blob(Array("from swift".utf8)))])
        let check = dir + "/check.py"
        try #"""
import sys
from datahub import DataHub
from datahub.models import CursorType
dh = DataHub("ak", "sk", sys.argv[1])
c = dh.get_cursor("pyproj", "blobs", "0", CursorType.SEQUENCE, 3).cursor
r = dh.get_blob_records("pyproj", "blobs", "0", c, 10).records
assert [x.blob_data for x in r] == [b"from swift"], r
print("SWIFT WRITE OK")
"""#.write(toFile: check, atomically: true, encoding: .utf8)
        let py2 = try runPython([check, endpoint.url])
        #expect(py2.status == 0, "python output: \(py2.output)")
        #expect(py2.output.contains("SWIFT WRITE OK"))
    }

    /// A wrong secret is refused with DataHub's Unauthorized code, which the client reports as a credential error.
    @Test func wrongSecretIsACredentialError() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        let bad = DataHubClient(endpoint: endpoint.url, accessId: "ak", accessKey: "nope")
        do {
            _ = try bad.listShards(project: "proj", topic: "samples")
            Issue.record("a wrong secret was accepted")
        } catch {
            #expect(error.isCredentialError)
            #expect(error.code == "Unauthorized")
            #expect(error.description.contains("proj/samples"))
        }
        let good = DataHubClient(endpoint: endpoint.url, accessId: "ak", accessKey: "sk")
        #expect(try good.listShards(project: "proj", topic: "samples").map(\.id) == ["0", "1"])
    }

    /// With nothing listening the client retries with backoff (reporting each retry), then fails with no response.
    @Test func unreachableEndpointRetriesThenFails() throws {
        let retries = RetryCount()
        let client = DataHubClient(endpoint: "127.0.0.1:1", accessId: "a", accessKey: "b", retries: 2) { _, _ in retries.bump() }
        do {
            _ = try client.listShards(project: "p", topic: "t")
            Issue.record("an unreachable endpoint answered")
        } catch {
            #expect(error.status == 0)
            #expect(error.isRetryable)
        }
        #expect(retries.count == 2)
    }
}

/// The pydatahub venv made by `make datahub-venv`.
let datahubPython = NSHomeDirectory() + "/.cache/odl/pydatahub-venv/bin/python"

/// Runs the venv's python with `arguments` (killed after 120 s): exit status and output.
func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let log = NSTemporaryDirectory() + "odl-pydatahub-\(UUID().uuidString.prefix(8)).log"
    defer { try? FileManager.default.removeItem(atPath: log) }
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    defer { try? handle.close() }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: datahubPython)
    p.arguments = arguments
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    let deadline = Date().addingTimeInterval(120)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    return (p.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
}

/// Counts retry callbacks.
final class RetryCount: Sendable {
    private let state = Mutex<Int>(0)
    func bump() { state.withLock { $0 += 1 } }
    var count: Int { state.withLock { $0 } }
}
