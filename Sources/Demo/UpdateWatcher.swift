import Foundation
import Kafka
import Synchronization

/// Reads the update topic alongside the live processor and records each message's Kafka
/// timestamp, so that freshness (trainer send -> applied by the processor) can be measured
/// from outside the processor.
final class UpdateWatcher: Sendable {
    /// One update message as seen on the topic.
    struct Seen: Sendable {
        var offset: Int64
        var timestamp: Double   // seconds since the epoch
        var key: String
        var bytes: Int
    }

    private let consumer: Consumer
    private let topic: String
    private let seen = Mutex<[Seen]>([])
    private let running = Atomic<Bool>(true)
    private let finished = Atomic<Bool>(false)

    init(bootstrap: String, topic: String) throws {
        var config = ConsumerConfig(bootstrap: bootstrap)
        config.fetchWaitMaxMs = 10
        config.autoOffsetReset = .earliest
        consumer = try Consumer(config)
        try consumer.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning)])
        self.topic = topic
    }

    func start() {
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                for event in consumer.poll(maxMessages: 500, timeout: .milliseconds(100)) {
                    guard let m = event.message else { continue }
                    let ts = m.timestamp.map { Double($0) / 1000 } ?? Date().timeIntervalSince1970
                    let key = m.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    seen.withLock { $0.append(Seen(offset: m.offset, timestamp: ts, key: key, bytes: m.value.count)) }
                }
            }
            consumer.close()
            finished.store(true, ordering: .releasing)
        }
        thread.name = "demo-update-watcher"
        thread.start()
    }

    var messages: [Seen] { seen.withLock { $0 } }

    func stop() {
        running.store(false, ordering: .relaxed)
        let deadline = Date().addingTimeInterval(3)
        while !finished.load(ordering: .acquiring) && Date() < deadline { usleep(20_000) }
    }
}

/// Polls a processor's /status and records when each update offset became applied.
actor StatusPoller {
    private let client: ProcessorClient
    private(set) var appliedAt: [(time: Double, nextOffset: Int64)] = []
    private(set) var last: StatusSnapshot?
    private var task: Task<Void, Never>?

    init(client: ProcessorClient) { self.client = client }

    func start(interval: Duration = .milliseconds(50)) {
        task = Task { [client] in
            while !Task.isCancelled {
                if let json = try? await client.status() {
                    let s = StatusSnapshot(json: json)
                    self.record(s, at: Date().timeIntervalSince1970)
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    private func record(_ s: StatusSnapshot, at time: Double) {
        last = s
        if let next = s.nextOffset, appliedAt.last?.nextOffset != next {
            appliedAt.append((time, next))
        }
    }

    func stop() { task?.cancel(); task = nil }

    /// Seconds from each message's timestamp to the first poll that saw it applied.
    func freshness(of messages: [UpdateWatcher.Seen]) -> [Double] {
        var out: [Double] = []
        var j = 0
        for m in messages.sorted(by: { $0.offset < $1.offset }) {
            while j < appliedAt.count && appliedAt[j].nextOffset <= m.offset { j += 1 }
            guard j < appliedAt.count else { break }
            out.append(max(0, appliedAt[j].time - m.timestamp))
        }
        return out
    }
}

/// The fields of a processor's /status the demo uses (names accepted in camelCase or snake_case).
struct StatusSnapshot: Sendable {
    var denseStep: Int64?
    var sparseStep: Int64?
    var nextOffset: Int64?
    var endOffset: Int64?
    var messagesApplied: Int?
    var messagesRejected: Int?
    var rowsApplied: Int?
    var checksum: String?
    var freshnessMean: Double?
    var freshnessMax: Double?
    var freshnessCount: Int?
    var caughtUp: Bool?

    init(json: [String: Any]) {
        func find(_ keys: [String], in any: Any) -> Any? {
            if let d = any as? [String: Any] {
                for k in keys { if let v = d[k], !(v is NSNull) { return v } }
                for (_, v) in d.sorted(by: { $0.key < $1.key }) { if let f = find(keys, in: v) { return f } }
            } else if let a = any as? [Any] {
                for v in a { if let f = find(keys, in: v) { return f } }
            }
            return nil
        }
        func num(_ keys: String...) -> Double? { ProcessorClient.number(find(keys, in: json)) }
        denseStep = num("denseStep", "dense_step").map { Int64($0) }
        sparseStep = num("sparseStep", "sparse_step").map { Int64($0) }
        nextOffset = num("nextOffset", "next_offset").map { Int64($0) }
        endOffset = num("endOffset", "end_offset").map { Int64($0) }
        messagesApplied = num("messagesApplied", "messages_applied").map { Int($0) }
        messagesRejected = num("messagesRejected", "messages_rejected").map { Int($0) }
        rowsApplied = num("rowsApplied", "rows_applied").map { Int($0) }
        if let c = find(["checksum"], in: json) { checksum = "\(c)" }
        freshnessMean = num("meanSeconds", "mean_seconds")
        freshnessMax = num("maxSeconds", "max_seconds")
        freshnessCount = ProcessorClient.number(
            (find(["freshness"], in: json) as? [String: Any])?["count"]).map { Int($0) }
        caughtUp = find(["caughtUp", "caught_up"], in: json) as? Bool
    }
}
