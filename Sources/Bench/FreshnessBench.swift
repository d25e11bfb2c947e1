import Config
import FG
import Foundation
import Inference
import Kafka
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `odl bench freshness`: for each trial, a sparse update that changes one item's embedding
/// row is sent (the trainer's acknowledged send), then the processor is polled until that
/// item's score changes. A bare consumer in this process tails the same topic, giving the
/// broker's own produce -> consume latency for the same messages.
package struct FreshnessBench {
    package var bootstrap: String
    package var topic: String
    package var partition: Int32 = 0
    package var export: String
    package var url: String
    package var trials: Int = 50
    package var pauseMs: Int = 30
    package var startStep: Int = 1_000_000
    package var timeout: Double = 5

    package init(bootstrap: String, topic: String, partition: Int32 = 0, export: String, url: String,
                 trials: Int = 50, pauseMs: Int = 30, startStep: Int = 1_000_000, timeout: Double = 5) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.partition = partition
        self.export = export
        self.url = url
        self.trials = trials
        self.pauseMs = pauseMs
        self.startStep = startStep
        self.timeout = timeout
    }

    /// Times (unix seconds) the bare consumer saw each step.
    final class Seen: Sendable {
        let times = Mutex<[Int: Double]>([:])
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
        let ready = Atomic<Bool>(false)
        let error = Mutex<String?>(nil)
    }

    package func run() throws {
        guard trials > 0 else { throw BenchError("--trials must be positive") }
        let (_, manifest, spec) = try BenchModel.loadSpec(exportDir: export)
        guard let fgJSON = manifest.fgJSON else { throw BenchError("\(export): the freshness model needs an fg.json") }
        let plan = FGPlan(config: try FGConfig(jsonString: fgJSON))
        let encoder = try ColumnEncoder(specs: spec.columns, layout: plan.outputNames)
        // The probe item and the row its first item feature reads.
        var userFeatures: [String: FeatureValue] = [:]
        var itemFeatures: [String: [FeatureValue]] = [:]
        var json = "{\"item_ids\": [\"fresh\"], \"user_features\": {"
        var itemColumn: Int?
        for (c, col) in spec.columns.enumerated() {
            let isUser = col.name.hasPrefix("u")
            let value = isUser ? "uv_\(col.name)" : "iv_\(col.name)"
            if isUser { userFeatures[col.name] = .string(value) } else {
                itemFeatures[col.name] = [.string(value)]
                if itemColumn == nil { itemColumn = c }
            }
        }
        json += userFeatures.keys.sorted().map { "\"\($0)\": {\"string_feature\": \"uv_\($0)\"}" }.joined(separator: ", ")
        json += "}, \"context_features\": {"
        json += itemFeatures.keys.sorted().map { "\"\($0)\": {\"features\": [{\"string_feature\": \"iv_\($0)\"}]}" }.joined(separator: ", ")
        json += "}}"
        guard let probeColumn = itemColumn, let table = spec.tableId(column: probeColumn, part: .deep) else {
            throw BenchError("the model has no item feature with a deep table")
        }
        var raw = plan.makeBatch()
        try plan.evaluate(FGRequest(userFeatures: userFeatures, itemIds: ["fresh"], itemFeatures: itemFeatures), into: &raw)
        var encoded = EncodedBatch(columnCount: spec.columns.count)
        try encoder.encode(raw, into: &encoded)
        guard let row = encoded.columns[probeColumn].ids.first else { throw BenchError("probe item has no id for \(spec.columns[probeColumn].name)") }
        let dim = spec.embeddings[table].dim

        // Bare consumer, tailing from the end.
        let seen = Seen()
        let bootstrap = self.bootstrap, topic = self.topic, partition = self.partition
        let consumerThread = Thread {
            do {
                var config = ConsumerConfig(bootstrap: bootstrap)
                config.fetchWaitMaxMs = 10   // as the processor's update consumer
                let consumer = try Consumer(config)
                defer { consumer.close() }
                try consumer.assign([PartitionAssignment(topic: topic, partition: partition, offset: .end)])
                seen.ready.store(true, ordering: .releasing)
                while !seen.stop.load(ordering: .relaxed) {
                    for event in consumer.poll(maxMessages: 256, timeout: .milliseconds(20)) {
                        if case .message(let m) = event, let key = m.key,
                           let parsed = UpdateCodec.parseKafkaKey(String(decoding: key, as: UTF8.self)) {
                            let t = BenchSupport.unixNow()
                            seen.times.withLock { $0[Int(parsed.step)] = t }
                        }
                    }
                }
            } catch {
                seen.error.withLock { $0 = "\(error)" }
                seen.ready.store(true, ordering: .releasing)
            }
            seen.done.store(true, ordering: .releasing)
        }
        consumerThread.start()
        defer {
            seen.stop.store(true, ordering: .relaxed)
            while !seen.done.load(ordering: .acquiring) { usleep(1000) }
        }
        while !seen.ready.load(ordering: .acquiring) { usleep(1000) }
        if let e = seen.error.withLock({ $0 }) { throw BenchError("bare consumer: \(e)") }

        let producer = try Producer(ProducerConfig(bootstrap: bootstrap))
        defer { producer.close() }
        let client = try BenchHTTPClient(url: url)
        var rng = BenchRng(seed: 99)
        let body = Array(json.utf8)
        func score() throws -> Double {
            let (status, answer) = try client.request(method: "POST", path: "/predict", contentType: "application/json", body: body)
            guard status == 200 else { throw BenchError("predict: HTTP \(status): \(String(decoding: answer.prefix(200), as: UTF8.self))") }
            guard let o = try JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any],
                  let results = o["results"] as? [String: Any], let r = results["fresh"] as? [String: Any],
                  let scores = r["scores"] as? [Any], let first = scores.first else {
                throw BenchError("predict: unexpected answer \(String(decoding: answer.prefix(200), as: UTF8.self))")
            }
            if let d = first as? Double { return d }
            if let n = first as? NSNumber { return n.doubleValue }
            throw BenchError("predict: score is not a number")
        }
        var afterAck: [Double] = [], afterSend: [Double] = [], ackLatency: [Double] = []
        var sendTimes: [Int: Double] = [:]
        var timeouts = 0, polls = 0
        _ = try score()   // connect
        // Warm-up (not counted): until the bare consumer has seen one message and the processor applied it.
        var warm = 0
        while warm < 3 || seen.times.withLock({ $0[startStep - 1] == nil }) {
            guard warm < 200 else { throw BenchError("warm-up: the bare consumer saw nothing in 200 messages") }
            let m = UpdateMessage.sparse(SparseUpdate(globalStep: Int32(truncatingIfNeeded: startStep - 1),
                                                      blocks: [.init(embeddingId: Int32(table), keys: [row], values: (0..<dim).map { _ in rng.uniform(0.5) })]))
            _ = try producer.sendSync(topic: topic, partition: partition, key: Array(UpdateCodec.kafkaKey(for: m).utf8), value: UpdateCodec.encode(m))
            usleep(50_000)
            warm += 1
        }
        for trial in 0..<trials {
            let step = startStep + trial
            let before = try score()
            let values = (0..<dim).map { _ in rng.uniform(0.5) }
            let message = UpdateMessage.sparse(SparseUpdate(globalStep: Int32(truncatingIfNeeded: step),
                                                            blocks: [.init(embeddingId: Int32(table), keys: [row], values: values)]))
            let tSend = BenchSupport.unixNow()
            sendTimes[step] = tSend
            _ = try producer.sendSync(topic: topic, partition: partition, key: Array(UpdateCodec.kafkaKey(for: message).utf8),
                                      value: UpdateCodec.encode(message))
            let tAck = BenchSupport.unixNow()
            var changed = false
            while BenchSupport.unixNow() - tAck < timeout {
                polls += 1
                if try score() != before { changed = true; break }
            }
            let tVisible = BenchSupport.unixNow()
            if changed {
                afterAck.append((tVisible - tAck) * 1000)
                afterSend.append((tVisible - tSend) * 1000)
                ackLatency.append((tAck - tSend) * 1000)
            } else {
                timeouts += 1
            }
            usleep(useconds_t(pauseMs * 1000))
        }
        usleep(200_000)
        let consumed = seen.times.withLock { $0 }
        var bareAfterSend: [Double] = []
        for (step, t) in sendTimes { if let c = consumed[step] { bareAfterSend.append((c - t) * 1000) } }
        try BenchSupport.emit([
            "trials": trials, "timeouts": timeouts, "polls": polls,
            "visible_after_ack_ms_p50": BenchSupport.percentile(afterAck, 50),
            "visible_after_ack_ms_p99": BenchSupport.percentile(afterAck, 99),
            "visible_after_send_ms_p50": BenchSupport.percentile(afterSend, 50),
            "visible_after_send_ms_p99": BenchSupport.percentile(afterSend, 99),
            "ack_ms_p50": BenchSupport.percentile(ackLatency, 50),
            "bare_consumer_after_send_ms_p50": BenchSupport.percentile(bareAfterSend, 50),
            "bare_consumer_after_send_ms_p99": BenchSupport.percentile(bareAfterSend, 99),
            "bare_consumer_seen": bareAfterSend.count,
            "visible_after_ack_ms": afterAck, "bare_consumer_after_send_ms": bareAfterSend,
        ])
    }
}
