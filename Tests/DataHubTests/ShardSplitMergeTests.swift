import DataHub
import Foundation
import Testing
@testable import DataHubServer

/// The embedded endpoint's split and merge: parents CLOSED and readable to their end, then sealed; children named
/// after the highest id, with parent ids and hash ranges; writes refused on CLOSED shards; all of it replayed.
@Suite struct ShardSplitMergeTests {
    func blob(_ s: String, _ shard: String) -> DataHubRecord { DataHubRecord(data: .blob(Array(s.utf8)), shardId: shard) }

    @Test func splitThenMergeAndReplay() throws {
        let path = NSTemporaryDirectory() + "odl-dh-split-\(UUID().uuidString.prefix(8)).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let s = try DataHubStore(journalPath: path, clock: { 7_000 })
            try s.createProject("p", comment: "")
            try s.createTopic(project: "p", topic: "t", shardCount: 2, lifecycle: 1, type: .blob, schema: nil, comment: "")
            #expect(try s.put(project: "p", topic: "t", [blob("a", "0"), blob("b", "0")]).isEmpty)
            let key = DataHubStore.hashKeyText(UInt128.max / 4)
            let children = try s.splitShard(project: "p", topic: "t", shard: "0", splitKey: key)
            #expect(children.map(\.id) == ["2", "3"])
            #expect(children.map(\.parents) == [["0"], ["0"]])
            #expect(children[0].endHashKey == key && children[1].beginHashKey == key)
            // A CLOSED shard takes no writes and no second split; its records stay readable, then it is sealed.
            #expect(try s.put(project: "p", topic: "t", [blob("c", "0")]).map(\.1) == ["InvalidShardOperation"])
            #expect(throws: DataHubFault.self) { try s.splitShard(project: "p", topic: "t", shard: "0", splitKey: key) }
            let c = try s.cursor(project: "p", topic: "t", shard: "0", .oldest)
            let r = try s.read(project: "p", topic: "t", shard: "0", cursor: c.cursor, limit: 10)
            #expect(r.records.map(\.sequence) == [0, 1])
            do {
                _ = try s.read(project: "p", topic: "t", shard: "0", cursor: r.next, limit: 10)
                Issue.record("read past the end of a CLOSED shard was not refused")
            } catch { #expect(error.code == "InvalidShardOperation") }
            // Only adjacent ACTIVE shards merge: 3 ends where 1 begins.
            #expect(throws: DataHubFault.self) { try s.mergeShard(project: "p", topic: "t", shard: "2", adjacent: "1") }
            let merged = try s.mergeShard(project: "p", topic: "t", shard: "3", adjacent: "1")
            #expect(merged.id == "4" && merged.parents == ["3", "1"])
            #expect(merged.endHashKey == String(repeating: "F", count: 32))
            // Unrouted writes go to ACTIVE shards only.
            #expect(try s.put(project: "p", topic: "t", [DataHubRecord(data: .blob([1])), DataHubRecord(data: .blob([2]))]).isEmpty)
        }
        let again = try DataHubStore(journalPath: path, clock: { 9_000 })
        let shards = try again.listShards(project: "p", topic: "t")
        #expect(shards.map(\.id) == ["0", "1", "2", "3", "4"])
        #expect(shards.map(\.state) == ["CLOSED", "CLOSED", "ACTIVE", "CLOSED", "ACTIVE"])
        #expect(shards.map(\.closedTime) == [7, 7, nil, 7, nil])
        #expect(shards[2].rightShardId == "4" && shards[4].leftShardId == "2")
        let active = try ["2", "4"].map { id in try again.cursor(project: "p", topic: "t", shard: id, .latest).sequence }
        #expect(active == [0, 0], "the two unrouted records went one to each ACTIVE shard")
    }
}
