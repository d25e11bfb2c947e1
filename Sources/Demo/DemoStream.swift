import Foundation
import Kafka

/// Streams today into the sample topic in time order with progressive validation: every
/// chunk of pages is scored by both processors first, then its samples are produced.
struct DemoStream: Sendable {
    let options: DemoOptions
    let bootstrap: String
    let live: ProcessorClient
    let staticClient: ProcessorClient
    let trainer: ChildProcess
    /// Processes that must stay up during the stream (checked every chunk).
    let processes: [ChildProcess]
    /// Where samples go instead of the sample topic (`--input datahub`).
    var datahub: DataHubSampleSink?

    /// What the stream measured.
    struct Outcome: Sendable {
        var scored: [ScoredItem] = []
        var windows: [AUCWindow] = []
        var seconds = 0.0
        var samples = 0
    }

    func run(_ today: [TodayRequest]) async throws -> Outcome {
        var results = Outcome()
        var config = ProducerConfig(bootstrap: bootstrap)
        config.lingerMs = 0
        let producer = try Producer(config)
        defer { producer.close() }
        let total = today.reduce(0) { $0 + $1.samples.count }
        DemoLog.say("streaming \(today.count) requests / \(total) samples at \(Int(options.rate)) samples/s "
                    + "(score \(options.chunkPages) pages on both processors, then produce their samples)")
        let start = Date()
        var produced = 0
        var lastProgress = Date()
        var windowStart = 0
        for chunkStart in stride(from: 0, to: today.count, by: max(1, options.chunkPages)) {
            let chunk = Array(today[chunkStart..<min(today.count, chunkStart + max(1, options.chunkPages))])
            for p in processes + [trainer] where !p.isRunning {
                throw DemoError("\(p.name) exited during the stream; log \(p.logPath):\n\(p.tail())")
            }
            let scores = try await score(chunk)
            for (r, s) in zip(chunk, scores) {
                for j in r.itemIds.indices {
                    results.scored.append(ScoredItem(page: r.page, label: r.labels[j], isNew: r.isNew[j],
                                                     trueProbability: r.trueProbabilities[j],
                                                     staticScore: s.static[j], liveScore: s.live[j]))
                }
            }
            if let datahub {
                let lines = chunk.flatMap(\.samples)
                try await datahub.put(lines, firstIndex: produced)
                produced += lines.count
            } else {
                for r in chunk {
                    for line in r.samples {
                        _ = try await producer.send(topic: options.sampleTopic, partition: 0,
                                                    key: Array("s\(produced)".utf8), value: Array(line.utf8))
                        produced += 1
                    }
                }
            }
            let pagesDone = chunkStart + chunk.count
            if pagesDone - windowStart >= options.windowPages || pagesDone == today.count {
                let items = results.scored.filter { $0.page >= today[windowStart].page && $0.page <= today[pagesDone - 1].page }
                results.windows.append(AUCWindow(firstPage: windowStart, lastPage: pagesDone - 1,
                                                 all: AUCRow(name: "all", items: items),
                                                 new: AUCRow(name: "new", items: items.filter(\.isNew))))
                windowStart = pagesDone
            }
            if Date().timeIntervalSince(lastProgress) >= 5 || pagesDone == today.count {
                lastProgress = Date()
                await progress(results: results, produced: produced, total: total, pagesDone: pagesDone)
            }
            let ahead = Double(produced) / options.rate - Date().timeIntervalSince(start)
            if ahead > 0 { try await Task.sleep(for: .milliseconds(Int(ahead * 1000))) }
        }
        results.seconds = Date().timeIntervalSince(start)
        results.samples = produced
        return results
    }

    /// Both processors' probabilities for every request of the chunk (concurrently).
    private func score(_ chunk: [TodayRequest]) async throws -> [(static: [Double], live: [Double])] {
        try await withThrowingTaskGroup(of: (Int, [Double], [Double]).self) { group in
            for (i, r) in chunk.enumerated() {
                group.addTask {
                    async let s = staticClient.predict(body: r.body, itemIds: r.itemIds)
                    async let l = live.predict(body: r.body, itemIds: r.itemIds)
                    return (i, try await s, try await l)
                }
            }
            var out = Array(repeating: (static: [Double](), live: [Double]()), count: chunk.count)
            for try await (i, s, l) in group { out[i] = (s, l) }
            return out
        }
    }

    private func progress(results: Outcome, produced: Int, total: Int, pagesDone: Int) async {
        let recent = results.scored.suffix(4000)
        let recentNew = recent.filter(\.isNew)
        let all = AUCRow(name: "", items: Array(recent)), new = AUCRow(name: "", items: recentNew)
        let status = (try? await live.status()).map { StatusSnapshot(json: $0) }
        let lag = trainerLag(produced: produced, liveStep: status?.denseStep)
        DemoLog.say(String(format: "stream %5d/%d samples | last 4000 AUC all: static %@ live %@ | new items: static %@ live %@ | live model step %@, %@ updates | samples not yet in the live model %@",
                           produced, total, DemoResults.f(all.staticAUC, 3), DemoResults.f(all.liveAUC, 3),
                           DemoResults.f(new.staticAUC, 3), DemoResults.f(new.liveAUC, 3),
                           status?.denseStep.map(String.init) ?? "-", status?.messagesApplied.map(String.init) ?? "-",
                           lag.map(String.init) ?? "-"))
    }

    /// Samples produced but not yet reflected in the live model (from its dense step; nil if unknown).
    func trainerLag(produced: Int, liveStep: Int64?) -> Int? {
        guard let step = liveStep else { return nil }
        return max(0, produced - Int(step) * options.onlineBatchSize)
    }

    private func trainerCommitted() -> Int64? {
        guard let consumer = try? Consumer(ConsumerConfig(bootstrap: bootstrap, groupID: "demo_trainer")) else { return nil }
        defer { consumer.close() }
        return (try? consumer.committed(topic: options.sampleTopic, partitions: [0], timeout: .seconds(2)))?[0]
    }

    /// Waits until the live model's step covers every produced sample (or the trainer's group
    /// committed the end of the topic), so that stopping the trainer loses nothing.
    func waitTrainerCaughtUp(produced: Int, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var step: Int64?
        while Date() < deadline {
            step = (try? await live.status()).flatMap { StatusSnapshot(json: $0).denseStep }
            if let s = step, Int(s) * options.onlineBatchSize > produced - options.onlineBatchSize * max(1, options.onlineSaveSteps) { return }
            if let c = trainerCommitted(), c >= Int64(produced) - 1 { return }
            if !trainer.isRunning { throw DemoError("online trainer exited early; log \(trainer.logPath):\n\(trainer.tail())") }
            try await Task.sleep(for: .milliseconds(200))
        }
        DemoLog.say("note: live model at step \(step.map(String.init) ?? "unknown") (batch \(options.onlineBatchSize)) of \(produced) samples after \(Int(timeout)) s; stopping the trainer anyway")
    }
}
