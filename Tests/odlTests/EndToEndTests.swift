import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Testing
@testable import Demo

/// Real multi-process end-to-end tests: `odl broker`, `odl train` (offline base, then online),
/// `odl export` and `odl serve` of the built debug binary, driven over Kafka and HTTP.
@Suite(.serialized) struct EndToEndTests {
    /// Trainer + processor: after the trainer stops, the live processor answers exactly like a
    /// fresh export of the trainer's final checkpoint.
    @Test(arguments: BrokerKind.forTests)
    func liveProcessorConvergesToTheFinalCheckpoint(kind: BrokerKind) async throws {
        let s = try await E2EScenario("converge", kind: kind)
        let (live, liveClient) = try await s.startLive("serve-live")
        let log = s.dir + "/samples.log"
        let trainer = try s.startTrainer(sampleLog: log)
        let samples = s.base.todaySamples
        try await s.produce(samples[...])
        try await s.waitTrained(log: log, last: Int64(samples.count - 1), trainer: trainer, timeout: 90)
        try await s.stopTrainer(trainer)
        let (status, messages) = try await s.waitApplied(liveClient, timeout: 60)
        #expect(messages >= 4, "the trainer published dense + sparse updates (got \(messages) messages)")
        #expect(status.messagesApplied == Int(messages))
        #expect(status.messagesRejected == 0)
        let (fresh, freshClient) = try await s.serveFinalExport()
        let liveProbs = try await scoreAll(liveClient, s.base.requests)
        let freshProbs = try await scoreAll(freshClient, s.base.requests)
        #expect(liveProbs.count == freshProbs.count && !liveProbs.isEmpty)
        let diff = maxAbsDiff(liveProbs, freshProbs)
        #expect(diff <= 1e-6, "live vs fresh export of the final checkpoint: max |diff| \(diff)")
        // Both equal the trainer's own predictions from its final checkpoint.
        let trainerProbs = try TrainerReference.probs(config: s.onlineConfig, modelDir: s.onlineDir, requests: s.base.requests)
        #expect(trainerProbs.count == liveProbs.count)
        #expect(maxAbsDiff(trainerProbs, liveProbs) <= 1e-6, "trainer vs live: max |diff| \(maxAbsDiff(trainerProbs, liveProbs))")
        #expect(maxAbsDiff(trainerProbs, freshProbs) <= 1e-6, "trainer vs fresh export: max |diff| \(maxAbsDiff(trainerProbs, freshProbs))")
        // The updates changed the model: the base scores differently.
        let (baseProc, baseClient) = try await s.startStatic("serve-base", model: s.base.exportDir)
        let baseProbs = try await scoreAll(baseClient, s.base.requests)
        #expect(maxAbsDiff(baseProbs, liveProbs) > 1e-4, "the online updates must move the predictions")
        print("liveProcessorConverges: \(messages) update messages, \(liveProbs.count) items; max |diff| live-fresh \(diff), "
              + "live-trainer \(maxAbsDiff(trainerProbs, liveProbs)), live-base \(maxAbsDiff(baseProbs, liveProbs))")
        await s.stopAll([live, fresh, baseProc])
    }

    /// kill -9 one of two live processors mid-stream, restart it on the same base: it replays
    /// the topic and ends with the uninterrupted processor's checksum and predictions.
    @Test(arguments: BrokerKind.forTests)
    func killedProcessorReplaysToTheSameModel(kind: BrokerKind) async throws {
        let s = try await E2EScenario("restart", kind: kind)
        let (a, aClient) = try await s.startLive("serve-a")
        let (b, bClient) = try await s.startLive("serve-b")
        let log = s.dir + "/samples.log"
        let trainer = try s.startTrainer(sampleLog: log)
        let samples = s.base.todaySamples
        let half = samples.count / 2 / 32 * 32
        try await s.produce(samples[..<half])
        // Wait until A applied some updates, then crash it while the trainer keeps publishing.
        try await s.waitSomeApplied(aClient, atLeast: 2, timeout: 60)
        let appliedBeforeKill = StatusSnapshot(json: try await aClient.status()).messagesApplied ?? 0
        #expect(appliedBeforeKill >= 2, "processor A applied updates before the crash")
        #expect(trainer.child.isRunning, "the trainer is still running at the crash")
        await a.child.crash()
        async let rest: Void = s.produce(samples[half...], chunk: 160, pause: 0.3)
        let (a2, a2Client) = try await s.startLive("serve-a-restarted")
        try await rest
        try await s.waitTrained(log: log, last: Int64(samples.count - 1), trainer: trainer, timeout: 90)
        try await s.stopTrainer(trainer)
        let (sa, messages) = try await s.waitApplied(a2Client, timeout: 60)
        let (sb, _) = try await s.waitApplied(bClient, timeout: 60)
        #expect(sa.messagesApplied == Int(messages) && sb.messagesApplied == Int(messages))
        #expect(sa.checksum != nil)
        #expect(sa.checksum == sb.checksum, "restarted \(sa.checksum ?? "-") vs uninterrupted \(sb.checksum ?? "-")")
        #expect(sa.denseStep == sb.denseStep && sa.sparseStep == sb.sparseStep)
        let pa = try await scoreAll(a2Client, s.base.requests)
        let pb = try await scoreAll(bClient, s.base.requests)
        #expect(pa == pb, "max |diff| \(maxAbsDiff(pa, pb))")
        await s.stopAll([a2, b])
    }

    /// Malformed messages in the update topic are rejected and counted; the good ones still make
    /// the live model equal the final checkpoint's export.
    @Test func poisonUpdateMessagesAreRejectedAndCounted() async throws {
        let s = try await E2EScenario("poison")
        let (live, liveClient) = try await s.startLive("serve-live")
        let log = s.dir + "/samples.log"
        let trainer = try s.startTrainer(sampleLog: log)
        let samples = s.base.todaySamples
        let half = samples.count / 2 / 32 * 32
        try await s.produce(samples[..<half])
        // Inject the poison between good updates: after the trainer's first messages.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? s.endOffset(s.updateTopic)) ?? 0) < 2 { try await Task.sleep(for: .milliseconds(100)) }
        let goodBefore = try s.endOffset(s.updateTopic)
        #expect(goodBefore >= 2, "the trainer published updates before the poison")
        let junk: [UInt8] = Array("this is not an update \u{00}\u{01}\u{02}\u{ff}".utf8) + [0xde, 0xad, 0xbe, 0xef]
        try s.produceUpdate(key: "sparse_update_999", value: junk)
        try s.produceUpdate(key: "dense_update_999", value: Array(junk.reversed()))
        try s.produceUpdate(key: "garbage", value: [1, 2, 3])
        try await s.produce(samples[half...])
        try await s.waitTrained(log: log, last: Int64(samples.count - 1), trainer: trainer, timeout: 90)
        try await s.stopTrainer(trainer)
        let (status, messages) = try await s.waitApplied(liveClient, timeout: 60)
        #expect(status.messagesRejected == 3, "rejected \(status.messagesRejected ?? -1)")
        #expect(status.messagesApplied == Int(messages) - 3)
        #expect(Int64(messages) > goodBefore + 3, "good updates follow the poison (\(messages) messages, poison at \(goodBefore))")
        #expect(liveClient.baseURL.hasPrefix("http"))
        let metrics = try await fetchText(liveClient.baseURL + "/metrics")
        let rejectedLine = metrics.split(separator: "\n").first {
            $0.hasPrefix("odl_update_messages_total") && $0.contains("rejected")
        }
        #expect(rejectedLine.map { Double($0.split(separator: " ").last ?? "") } == 3.0,
                "metrics line: \(rejectedLine.map(String.init) ?? "missing")")
        let fresh = try await s.expectLiveEqualsFinalExport(liveClient)
        await s.stopAll([live, fresh])
    }
}

extension EndToEndTests {
    /// kill -9 the trainer mid-stream, restart it on the same model_dir: it resumes at the
    /// checkpoint's offset (at-least-once: the sample at the offset is re-read, none before it),
    /// and the live processor still ends equal to the final checkpoint's export.
    @Test func killedTrainerResumesAtTheCheckpointOffset() async throws {
        let s = try await E2EScenario("trainer-kill", checkpointSteps: 20)
        let (live, liveClient) = try await s.startLive("serve-live")
        let log1 = s.dir + "/samples-1.log", log2 = s.dir + "/samples-2.log"
        let t1 = try s.startTrainer("train-1", sampleLog: log1)
        let samples = s.base.todaySamples
        let part = samples.count / 2 / 32 * 32
        try await s.produce(samples[..<part])
        // Past the step-20 checkpoint, then crash.
        try await s.waitTrained(log: log1, last: Int64(part - 1), trainer: t1, timeout: 90)
        await t1.child.crash()
        let trained1 = sampleLogEntries(log1)
        let t2 = try s.startTrainer("train-2", sampleLog: log2)
        // The restarted trainer logs where it resumes.
        var start: Int64 = -1
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && start < 0 {
            let out = t2.child.output()
            if let r = out.range(of: "partition 0 starts at offset ") {
                start = Int64(out[r.upperBound...].prefix { $0.isNumber }) ?? -1
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(start >= 0, "restarted trainer did not log its start offset:\n\(t2.child.tail())")
        // Pad the stream so the re-read part fills whole batches (no partial batch left waiting).
        let pad = (32 - (samples.count - Int(max(start, 0))) % 32) % 32
        let stream = samples + samples.prefix(pad)
        try await s.produce(stream[part...])
        try await s.waitTrained(log: log2, last: Int64(stream.count - 1), trainer: t2, timeout: 90)
        try await s.stopTrainer(t2)
        let trained2 = sampleLogEntries(log2)
        #expect(start > 0, "the restarted trainer resumed from a checkpoint, not from offset 0 (start \(start))")
        #expect(start <= trained1.map(\.offset).max() ?? -1, "nothing skipped: start \(start) within what the first trainer trained")
        #expect(trained2.first?.offset == start, "first re-read offset \(trained2.first?.offset ?? -1) == checkpoint offset \(start)")
        #expect(trained2.map(\.offset) == Array(start..<Int64(stream.count)), "each sample from the checkpoint offset on, once, in order")
        #expect(trained2.allSatisfy { $0.key == "s\($0.offset)" })
        // Together every sample was trained at least once.
        let all = Set(trained1.map(\.offset)).union(trained2.map(\.offset))
        #expect(all == Set(0..<Int64(stream.count)))
        let (status, messages) = try await s.waitApplied(liveClient, timeout: 60)
        #expect(status.messagesApplied == Int(messages) && status.messagesRejected == 0)
        let fresh = try await s.expectLiveEqualsFinalExport(liveClient)
        await s.stopAll([live, fresh])
    }

    /// The broker goes down mid-stream (SIGUSR1) and comes back (SIGUSR2): trainer and processor
    /// recover, no update message is lost, and the live model equals the final checkpoint's export.
    @Test func brokerOutageLosesNothing() async throws {
        let s = try await E2EScenario("outage")
        let (live, liveClient) = try await s.startLive("serve-live")
        let log = s.dir + "/samples.log"
        let trainer = try s.startTrainer(sampleLog: log)
        let samples = s.base.todaySamples
        let part = samples.count / 2 / 32 * 32
        try await s.produce(samples[..<part])
        try await s.waitSomeApplied(liveClient, atLeast: 2, timeout: 60)
        // The rest of the stream is produced slowly, across the outage (the producer retries).
        async let rest: Void = s.produce(samples[part...], chunk: 64, pause: 0.25)
        try await Task.sleep(for: .milliseconds(600))
        let broker = try #require(s.broker)
        broker.child.signal(SIGUSR1)
        try await Task.sleep(for: .seconds(3))
        #expect(trainer.child.isRunning, "the trainer survives the outage")
        broker.child.signal(SIGUSR2)
        try await rest
        #expect(broker.child.output().contains("brokers: down") && broker.child.output().contains("brokers: up"))
        #expect(broker.child.isRunning && trainer.child.isRunning && live.child.isRunning)
        try await s.waitTrained(log: log, last: Int64(samples.count - 1), trainer: trainer, timeout: 90)
        try await s.stopTrainer(trainer)
        let offsets = sampleLogEntries(log).map(\.offset)
        #expect(Set(offsets) == Set(0..<Int64(samples.count)), "every sample trained")
        let (status, messages) = try await s.waitApplied(liveClient, timeout: 90)
        #expect(status.messagesApplied == Int(messages) && status.messagesRejected == 0)
        let fresh = try await s.expectLiveEqualsFinalExport(liveClient)
        await s.stopAll([live, fresh])
    }

    /// Predict requests while updates apply: no errors, bounded p99 latency and RSS.
    @Test func servingUnderUpdateLoad() async throws {
        let s = try await E2EScenario("load")
        let (live, liveClient) = try await s.startLive("serve-live")
        let trainer = try s.startTrainer()
        let samples = s.base.todaySamples
        let rssStart = residentKiB(live.pid)
        let requests = s.base.requests
        let client = liveClient
        let loop = Task { () -> (latencies: [Double], errors: [String]) in
            var latencies: [Double] = [], errors: [String] = []
            let end = Date().addingTimeInterval(10)
            var i = 0
            while Date() < end {
                let r = requests[i % requests.count]
                let t0 = Date()
                do {
                    let p = try await client.predict(body: r.body, itemIds: r.itemIds)
                    if p.count != r.itemIds.count || !p.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) { errors.append("bad probs \(p)") }
                } catch { errors.append("\(error)") }
                latencies.append(Date().timeIntervalSince(t0))
                i += 1
            }
            return (latencies, errors)
        }
        // Three passes over today: ~6,000 samples, ~40 update messages while the client runs.
        for _ in 0..<3 { try await s.produce(samples[...]) }
        let (latencies, errors) = await loop.value
        let rssEnd = residentKiB(live.pid)
        let applied = StatusSnapshot(json: try await liveClient.status()).messagesApplied ?? 0
        try await s.stopTrainer(trainer)
        #expect(errors.isEmpty, "\(errors.count) errors, first: \(errors.first ?? "")")
        try #require(latencies.count >= 100, "only \(latencies.count) requests in 10 s")
        let sorted = latencies.sorted()
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        #expect(p99 < 0.5, "p99 latency \(p99) s")
        #expect(applied >= 10, "updates applied during the load: \(applied)")
        if let a = rssStart, let b = rssEnd {
            #expect(b - a < 200_000, "RSS grew from \(a) KiB to \(b) KiB")
        } else {
            Issue.record("cannot read VmRSS of pid \(live.pid)")
        }
        print("servingUnderUpdateLoad: \(latencies.count) requests, p50 \(sorted[sorted.count / 2]) s, p99 \(p99) s, "
              + "RSS \(rssStart ?? -1) -> \(rssEnd ?? -1) KiB, \(applied) messages applied during the load")
        await s.stopAll([live])
    }
}

func fetchText(_ url: String) async throws -> String {
    guard let u = URL(string: url) else { throw E2EError("bad URL \(url)") }
    let (data, _) = try await URLSession.shared.data(from: u)
    return String(decoding: data, as: UTF8.self)
}
