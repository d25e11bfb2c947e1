import DataHub
import Foundation
import Testing
@testable import Trainer

/// `odl datahub` child for trainer tests: a 2-shard TUPLE topic proj/samples with the tiny config's fields,
/// its records journaled in `dir` so that a restart (same port) keeps them.
final class DataHubEndpointChild: Sendable {
    let child: OdlProcess
    let url: String
    let port: Int

    init(dir: String, port fixedPort: Int = 0, keep: Int = 0) throws {
        let file = dir + "/endpoint-\(UUID().uuidString.prefix(6))"
        child = try OdlProcess(["datahub", "--port", "\(fixedPort)", "--endpoint-file", file, "--access-id", "ak", "--access-key", "sk",
                                "--journal", dir + "/datahub.journal", "--tuple-topic", "proj/samples:2:label,user,item,price",
                                "--max-records-per-shard", "\(keep)"],
                               log: dir + "/datahub-\(UUID().uuidString.prefix(4)).log")
        guard waitUntil(20, { !((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").isEmpty }),
              let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw HarnessError(description: "odl datahub did not start: \(child.output)")
        }
        url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        port = Int(url.split(separator: ":").last ?? "") ?? 0
    }

    func stop() {
        child.signal(SIGTERM)
        _ = child.wait(timeout: 10)
    }
}

/// The tiny config reading `proj/samples` from `endpoint`.
func datahubConfig(endpoint: String, secret: String = "sk", modelDir: String, offsetInfo: String? = nil,
                   checkpointSteps: Int = 5, numSteps: Int = 0) -> String {
    let kafka = tinyConfig(bootstrap: "unused", samples: "unused", updates: nil, modelDir: modelDir,
                           checkpointSteps: checkpointSteps, numSteps: numSteps)
    let offset = offsetInfo.map { " offset_info: '\($0)'" } ?? ""
    let input = "datahub_train_input { akId: 'ak' akSecret: '\(secret)' region: '\(endpoint)' project: 'proj' topic: 'samples'\(offset) }"
    return kafka.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.hasPrefix("kafka_train_input") ? input : String($0) }.joined(separator: "\n")
}

/// Puts tiny samples `range` as TUPLE records, sample i to shard i % 2 with attribute key s<i>.
func putSamples(_ endpoint: String, _ range: Range<Int>, bad: Set<Int> = []) throws {
    let client = DataHubClient(endpoint: endpoint, accessId: "ak", accessKey: "sk")
    let lines = tinySamples(range.upperBound)
    var records: [DataHubRecord] = []
    for i in range {
        var values = lines[i].split(separator: ",", omittingEmptySubsequences: false).map { Optional(String($0)) }
        if bad.contains(i) { values[3] = "not-a-price" }
        records.append(DataHubRecord(data: .tuple(values), shardId: String(i % 2), attributes: ["key": "s\(i)"]))
    }
    for chunk in stride(from: 0, to: records.count, by: 100) {
        let failed = try client.putRecords(project: "proj", topic: "samples", Array(records[chunk..<min(chunk + 100, records.count)]))
        guard failed.isEmpty else { throw HarnessError(description: "put refused: \(failed)") }
    }
}

/// (shard, sequence) of each trained sample in a sample log (the log's offset is the next unread sequence).
func trainedSequences(_ path: String) -> [(shard: Int32, sequence: Int64, key: String)] {
    sampleLog(path).map { ($0.partition, $0.offset - 1, $0.key) }
}

@Suite(.serialized) struct DataHubTrainerTests {
    /// Trains from a 2-shard TUPLE topic: every record once per (shard, sequence), bad records skipped with shard and sequence.
    @Test func twoShardTopicTrainsEveryRecordOnce() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        let n = 164, bad: Set<Int> = [5, 77]
        try putSamples(endpoint.url, 0..<n, bad: bad)
        let modelDir = dir + "/model"
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, modelDir: modelDir).write(toFile: configPath, atomically: true, encoding: .utf8)
        let trainer = try OdlProcess(["train", "--config", configPath, "--stop-check-secs", "0.2", "--sample-log", dir + "/s.log"],
                                     log: dir + "/train.log")
        let good = n - bad.count
        #expect(waitUntil(60) { sampleLog(dir + "/s.log").count >= good / 8 * 8 }, "trainer output: \(trainer.output)")
        FileManager.default.createFile(atPath: modelDir + "/OSS_STOP_SIGNAL", contents: nil)
        #expect(trainer.wait(timeout: 30) == 0, "trainer output: \(trainer.output)")
        #expect(trainer.output.contains("bad sample skipped at datahub project proj topic samples at \(endpoint.url) shard 1 sequence 2"))
        let log = trainedSequences(dir + "/s.log")
        #expect(log.count == good / 8 * 8)
        for shard: Int32 in [0, 1] {
            let seqs = log.filter { $0.shard == shard }.map(\.sequence)
            #expect(Set(seqs).count == seqs.count, "shard \(shard) trained a record twice")
            for entry in log where entry.shard == shard { #expect(entry.key == "s\(entry.sequence * 2 + Int64(shard))") }
        }
        let latest = try #require(CheckpointStore(directory: modelDir).latest())
        let saved = try #require(try OffsetMap.read(path: latest.offsetPath))
        #expect(saved.count == 2)
    }

    /// kill -9 mid-stream, then restart: the restart resumes at each shard's saved next-unread sequence, so that with
    /// the samples run 1 had trained when it wrote that checkpoint, every record is trained exactly once.
    @Test func killNineResumesExactlyOncePerShardAndSequence() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        let n = 400
        try putSamples(endpoint.url, 0..<n)
        let modelDir = dir + "/model"
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, modelDir: modelDir, checkpointSteps: 4)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let first = try OdlProcess(["train", "--config", configPath, "--sample-log", dir + "/run1.log"], log: dir + "/train1.log")
        let store = CheckpointStore(directory: modelDir)
        #expect(waitUntil(60) { (store.latest()?.step ?? 0) >= 12 }, "trainer output: \(first.output)")
        first.signal(SIGKILL)
        _ = first.wait(timeout: 10)
        let ckpt = try #require(store.latest())
        let saved = try #require(try OffsetMap.read(path: ckpt.offsetPath))
        #expect(saved.count == 2)

        let second = try OdlProcess(["train", "--config", configPath, "--sample-log", dir + "/run2.log", "--stop-check-secs", "0.2"],
                                    log: dir + "/train2.log")
        let remaining = saved.reduce(0) { $0 + (n / 2 - Int($1.value)) }
        #expect(waitUntil(60) { sampleLog(dir + "/run2.log").count >= remaining / 8 * 8 }, "trainer output: \(second.output)")
        FileManager.default.createFile(atPath: modelDir + "/OSS_STOP_SIGNAL", contents: nil)
        #expect(second.wait(timeout: 30) == 0, "trainer output: \(second.output)")
        #expect(second.output.contains("resuming from \(ckpt.path)"))
        let run1 = trainedSequences(dir + "/run1.log"), run2 = trainedSequences(dir + "/run2.log")
        for shard: Int32 in [0, 1] {
            let next = try #require(saved[shard])
            let before = run1.filter { $0.shard == shard && $0.sequence < next }.map(\.sequence)
            let after = run2.filter { $0.shard == shard }.map(\.sequence)
            // Run 1 trained [0, next) once each; run 2 starts exactly at next and never repeats a record.
            #expect(before.sorted() == Array(0..<next))
            #expect(after.min() == next)
            #expect(Set(after).count == after.count)
            let together = (before + after).sorted()
            #expect(together == Array(0..<Int64(together.count)), "shard \(shard): a record skipped or trained twice")
        }
    }

    /// offset_info {"timestamp": s} starts each shard at its first record written at or after s.
    @Test func timestampStart() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        try putSamples(endpoint.url, 0..<40)
        // The next whole second: every earlier record has a system time before it, every later one at or after it.
        let start = Int64(Date().timeIntervalSince1970.rounded(.down)) + 1
        Thread.sleep(forTimeInterval: Double(start) - Date().timeIntervalSince1970 + 0.05)
        try putSamples(endpoint.url, 40..<80)
        let modelDir = dir + "/model"
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, modelDir: modelDir, offsetInfo: "{\"timestamp\": \(start)}", numSteps: 5)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let trainer = try OdlProcess(["train", "--config", configPath, "--sample-log", dir + "/s.log"], log: dir + "/train.log")
        #expect(trainer.wait(timeout: 60) == 0, "trainer output: \(trainer.output)")
        #expect(trainer.output.contains("starts at sequence 20 (timestamp)"))
        let keys = Set(trainedSequences(dir + "/s.log").map(\.key))
        #expect(keys == Set((40..<80).map { "s\($0)" }))
    }

    /// A wrong akSecret is one fatal error, fast, naming the project and topic.
    @Test func wrongSecretFailsFast() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir)
        defer { endpoint.stop() }
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, secret: "wrong", modelDir: dir + "/model")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let started = Date()
        let trainer = try OdlProcess(["train", "--config", configPath], log: dir + "/train.log")
        let status = trainer.wait(timeout: 30)
        #expect(status != nil && status != 0, "trainer output: \(trainer.output)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(trainer.output.contains("datahub project proj topic samples"), "trainer output: \(trainer.output)")
        #expect(trainer.output.contains("credentials refused for akId ak"), "trainer output: \(trainer.output)")
    }

    /// The endpoint stopped and restarted (same port, journal kept) mid-run: the trainer reports the outage, waits,
    /// and trains every record once, including those written after the restart.
    @Test func endpointRestartMidRunIsSurvived() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var endpoint = try DataHubEndpointChild(dir: dir)
        try putSamples(endpoint.url, 0..<80)
        let modelDir = dir + "/model"
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, modelDir: modelDir).write(toFile: configPath, atomically: true, encoding: .utf8)
        let trainer = try OdlProcess(["train", "--config", configPath, "--stop-check-secs", "0.2", "--sample-log", dir + "/s.log"],
                                     log: dir + "/train.log")
        #expect(waitUntil(60) { sampleLog(dir + "/s.log").count >= 80 }, "trainer output: \(trainer.output)")
        let port = endpoint.port
        endpoint.stop()
        #expect(waitUntil(20) { trainer.output.contains("unavailable") }, "trainer output: \(trainer.output)")
        endpoint = try DataHubEndpointChild(dir: dir, port: port)
        defer { endpoint.stop() }
        try putSamples(endpoint.url, 80..<160)
        #expect(waitUntil(60) { sampleLog(dir + "/s.log").count >= 160 }, "trainer output: \(trainer.output)")
        FileManager.default.createFile(atPath: modelDir + "/OSS_STOP_SIGNAL", contents: nil)
        #expect(trainer.wait(timeout: 30) == 0, "trainer output: \(trainer.output)")
        #expect(trainer.output.contains("reachable again"))
        let keys = trainedSequences(dir + "/s.log").map(\.key)
        #expect(keys.count == 160)
        #expect(Set(keys) == Set((0..<160).map { "s\($0)" }))
    }

    /// Records that expired between a checkpoint and the restart are a reported gap (with the lost range), never a
    /// silent skip; training continues at the oldest kept record and trains each kept record once.
    @Test func expiredRecordsAreAReportedGap() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = try DataHubEndpointChild(dir: dir, keep: 40)
        defer { endpoint.stop() }
        try putSamples(endpoint.url, 0..<80)
        let modelDir = dir + "/model"
        let configPath = dir + "/dh.config"
        try datahubConfig(endpoint: endpoint.url, modelDir: modelDir, numSteps: 5).write(toFile: configPath, atomically: true, encoding: .utf8)
        let first = try OdlProcess(["train", "--config", configPath, "--sample-log", dir + "/run1.log"], log: dir + "/train1.log")
        #expect(first.wait(timeout: 60) == 0, "trainer output: \(first.output)")
        let latest = try #require(CheckpointStore(directory: modelDir).latest())
        let saved = try #require(try OffsetMap.read(path: latest.offsetPath))
        // 160 more records: each shard now keeps sequences 80..<120 only.
        try putSamples(endpoint.url, 80..<240)
        try datahubConfig(endpoint: endpoint.url, modelDir: modelDir, numSteps: 15).write(toFile: configPath, atomically: true, encoding: .utf8)
        let second = try OdlProcess(["train", "--config", configPath, "--sample-log", dir + "/run2.log"], log: dir + "/train2.log")
        #expect(second.wait(timeout: 60) == 0, "trainer output: \(second.output)")
        for shard: Int32 in [0, 1] {
            let next = try #require(saved[shard])
            #expect(second.output.contains("shard \(shard): records \(next)..<80 expired before they were read; continuing at 80"),
                    "trainer output: \(second.output)")
        }
        let run2 = trainedSequences(dir + "/run2.log")
        #expect(run2.count == 80)
        for shard: Int32 in [0, 1] {
            #expect(run2.filter { $0.shard == shard }.map(\.sequence).sorted() == Array(80..<120))
        }
    }
}
