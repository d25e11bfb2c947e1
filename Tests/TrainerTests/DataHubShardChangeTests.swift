import DataHub
import Foundation
import Testing
@testable import Trainer

/// Puts tiny samples `range` as TUPLE records, sample i to `shards[i % shards.count]` with attribute key s<i>.
func putSamples(_ endpoint: String, _ range: Range<Int>, shards: [String]) throws {
    let client = DataHubClient(endpoint: endpoint, accessId: "ak", accessKey: "sk")
    let lines = tinySamples(range.upperBound)
    let records = range.map { i in
        DataHubRecord(data: .tuple(lines[i].split(separator: ",", omittingEmptySubsequences: false).map { Optional(String($0)) }),
                      shardId: shards[i % shards.count], attributes: ["key": "s\(i)"])
    }
    for chunk in stride(from: 0, to: records.count, by: 100) {
        let failed = try client.putRecords(project: "proj", topic: "samples", Array(records[chunk..<min(chunk + 100, records.count)]))
        guard failed.isEmpty else { throw HarnessError(description: "put refused: \(failed)") }
    }
}

/// Split and merge during a run: CLOSED shards are read to their end, then their children (a merge child after both
/// parents), every record trained exactly once; and a kill -9 across a split resumes from the saved cursors.
@Suite(.serialized) struct DataHubShardChangeTests {
    let splitKey = String(UInt128.max / 4, radix: 16, uppercase: true)

    func train(_ dir: String, _ endpoint: DataHubEndpointChild, log: String, checkpointSteps: Int = 5) throws -> OdlProcess {
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, modelDir: dir + "/model", checkpointSteps: checkpointSteps)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        return try OdlProcess(["train", "--config", configPath, "--stop-check-secs", "0.2", "--sample-log", dir + "/" + log],
                              log: dir + "/train-\(log)")
    }

    func stop(_ dir: String, _ trainer: OdlProcess) {
        FileManager.default.createFile(atPath: dir + "/model/OSS_STOP_SIGNAL", contents: nil)
        #expect(trainer.wait(timeout: 30) == 0, "trainer output: \(trainer.output)")
    }

    /// Each key s0..<n once, and each parent's records before any of its children's.
    func expectExactlyOnce(_ log: [(shard: Int32, sequence: Int64, key: String)], n: Int, parents: [Int32: [Int32]]) {
        #expect(log.map(\.key).sorted() == (0..<n).map { "s\($0)" }.sorted(), "a record skipped or trained twice")
        for (child, ps) in parents {
            guard let first = log.firstIndex(where: { $0.shard == child }) else { Issue.record("child shard \(child) never read"); continue }
            for p in ps { #expect(!log[first...].contains { $0.shard == p }, "shard \(p) record trained after its child \(child)") }
        }
    }

    @Test func splitDuringARun() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        try putSamples(endpoint.url, 0..<160, shards: ["0", "1"])
        let trainer = try train(dir, endpoint, log: "s.log")
        #expect(waitUntil(60) { sampleLog(dir + "/s.log").count >= 16 }, "trainer output: \(trainer.output)")
        let client = DataHubClient(endpoint: endpoint.url, accessId: "ak", accessKey: "sk")
        #expect(try client.splitShard(project: "proj", topic: "samples", shard: "0", splitKey: splitKey) == ["2", "3"])
        try putSamples(endpoint.url, 160..<400, shards: ["1", "2", "3"])
        #expect(waitUntil(90) { sampleLog(dir + "/s.log").count >= 400 }, "trainer output: \(trainer.output)")
        stop(dir, trainer)
        #expect(trainer.output.contains("shard 0 is CLOSED and read to its end"))
        expectExactlyOnce(trainedSequences(dir + "/s.log"), n: 400, parents: [2: [0], 3: [0]])
    }

    @Test func mergeDuringARun() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        try putSamples(endpoint.url, 0..<160, shards: ["0", "1"])
        let trainer = try train(dir, endpoint, log: "s.log")
        #expect(waitUntil(60) { sampleLog(dir + "/s.log").count >= 16 }, "trainer output: \(trainer.output)")
        let client = DataHubClient(endpoint: endpoint.url, accessId: "ak", accessKey: "sk")
        #expect(try client.mergeShard(project: "proj", topic: "samples", shard: "0", adjacent: "1") == "2")
        try putSamples(endpoint.url, 160..<320, shards: ["2"])
        #expect(waitUntil(90) { sampleLog(dir + "/s.log").count >= 320 }, "trainer output: \(trainer.output)")
        stop(dir, trainer)
        expectExactlyOnce(trainedSequences(dir + "/s.log"), n: 320, parents: [2: [0, 1]])
    }

    @Test func killNineAcrossASplitResumesFromCursors() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        try putSamples(endpoint.url, 0..<80, shards: ["0", "1"])
        let client = DataHubClient(endpoint: endpoint.url, accessId: "ak", accessKey: "sk")
        _ = try client.splitShard(project: "proj", topic: "samples", shard: "0", splitKey: splitKey)
        let n = 800
        try putSamples(endpoint.url, 80..<n, shards: ["1", "2", "3"])
        let first = try train(dir, endpoint, log: "run1.log", checkpointSteps: 4)
        let store = CheckpointStore(directory: dir + "/model")
        let savedChildren = {
            (try? store.latest().flatMap { try OffsetMap.read(path: $0.offsetPath) })?.keys.contains { $0 >= 2 } ?? false
        }
        #expect(waitUntil(60) { savedChildren() }, "trainer output: \(first.output)")
        first.signal(SIGKILL)
        _ = first.wait(timeout: 10)
        let ckpt = try #require(store.latest())
        let saved = try #require(try OffsetMap.readWithCursors(path: ckpt.offsetPath))
        #expect(!saved.cursors.isEmpty && Set(saved.cursors.keys) == Set(saved.offsets.keys), "cursors saved: \(saved)")

        let second = try train(dir, endpoint, log: "run2.log")
        let run1 = trainedSequences(dir + "/run1.log").filter { e in saved.offsets[e.shard].map { e.sequence < $0 } ?? false }
        #expect(waitUntil(90) { run1.count + sampleLog(dir + "/run2.log").count >= n / 8 * 8 }, "trainer output: \(second.output)")
        stop(dir, second)
        #expect(second.output.contains("resumes at the checkpoint's cursor"))
        let together = run1 + trainedSequences(dir + "/run2.log")
        #expect(Set(together.map(\.key)).count == together.count, "a record trained twice")
        for shard: Int32 in [0, 1, 2, 3] {
            let seqs = together.filter { $0.shard == shard }.map(\.sequence).sorted()
            #expect(seqs == Array(0..<Int64(seqs.count)), "shard \(shard): a record skipped")
        }
        #expect(together.count >= n / 8 * 8)
    }
}
