import ArgumentParser
import Foundation
import Inference
import Kafka
import Synchronization

/// Counters shared by in-flight sends.
final class BenchSendCounters: Sendable {
    let acked = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    let lastError = Mutex<String?>(nil)
}

/// `odl bench produce-updates`: sparse update messages to a topic, paced at `--rate` rows/s
/// (0 = as fast as the producer goes), for `--seconds` or until `--bytes` are acknowledged.
struct BenchProduceUpdatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce-updates",
        abstract: "Produce sparse updates at a row rate (update load) or a byte volume (replay data); prints JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Update topic.")
    var topic: String
    @Option(name: .long, help: "Partition to write.")
    var partition: Int32 = 0
    @Option(name: .long, help: "Spread messages round-robin over partitions 0..<N instead (N > 0).")
    var spread: Int32 = 0
    @Option(name: .long, help: "Export whose model the updates fit.")
    var export: String
    @Option(name: .long, help: "Rows per second (0: as fast as possible).")
    var rate: Int = 0
    @Option(name: .long, help: "Stop after this many seconds.")
    var seconds: Double?
    @Option(name: .long, help: "Stop after this many bytes.")
    var bytes: Int?
    @Option(name: .long, help: "Rows per message.")
    var rowsPerMessage: Int = 1000
    @Option(name: .long, help: "First global step.")
    var startStep: Int = 1
    @Option(name: .long, help: "Most unacknowledged messages.")
    var maxInFlight: Int = 256

    func run() async throws {
        guard seconds != nil || bytes != nil else { throw BenchError("give --seconds or --bytes") }
        guard rate >= 0, rowsPerMessage > 0, maxInFlight > 0 else { throw BenchError("--rate, --rows-per-message, --max-in-flight must be >= 0 / > 0") }
        let (_, _, spec) = try BenchModel.loadSpec(exportDir: export)
        let pool = try BenchUpdatePool(spec: spec, rowsPerMessage: rowsPerMessage)
        var config = ProducerConfig(bootstrap: bootstrap)
        config.lingerMs = rate == 0 ? 5 : 0
        let producer = try Producer(config)
        let counters = BenchSendCounters()
        let start = BenchSupport.now()
        var step = startStep, sentBytes = 0, sentRows = 0
        let topic = self.topic
        while true {
            let elapsed = BenchSupport.now() - start
            if let seconds, elapsed >= seconds { break }
            if let bytes, sentBytes >= bytes { break }
            if rate > 0 {
                let due = Double(sentRows) / Double(rate)
                if due > elapsed { try await Task.sleep(for: .milliseconds(max(1, Int((due - elapsed) * 1000)))); continue }
            }
            while counters.inFlight.load(ordering: .relaxed) >= maxInFlight { try await Task.sleep(for: .milliseconds(1)) }
            let value = pool.message(step: step)
            let key = Array("sparse_update_\(step)".utf8)
            let partition = spread > 0 ? Int32(step % Int(spread)) : self.partition
            counters.inFlight.add(1, ordering: .relaxed)
            Task {
                do {
                    _ = try await producer.send(topic: topic, partition: partition, key: key, value: value)
                    counters.acked.add(1, ordering: .relaxed)
                } catch {
                    counters.failed.add(1, ordering: .relaxed)
                    counters.lastError.withLock { $0 = "\(error)" }
                }
                counters.inFlight.subtract(1, ordering: .relaxed)
            }
            step += 1
            sentBytes += value.count
            sentRows += rowsPerMessage
        }
        while counters.inFlight.load(ordering: .relaxed) > 0 { try await Task.sleep(for: .milliseconds(2)) }
        let elapsed = BenchSupport.now() - start
        producer.close()
        var out: [String: Any] = [
            "messages": counters.acked.load(ordering: .relaxed), "failed": counters.failed.load(ordering: .relaxed),
            "bytes": sentBytes, "rows": sentRows, "seconds": elapsed, "last_step": step - 1,
            "rows_per_s": Double(sentRows) / elapsed, "bytes_per_s": Double(sentBytes) / elapsed,
        ]
        if let e = counters.lastError.withLock({ $0 }) { out["last_error"] = e }
        try BenchSupport.emit(out)
    }
}

/// `odl bench consume`: a bare consumer reading every partition of a topic from its low to its
/// high watermark as seen at start (the peer of a restarted processor's replay).
struct BenchConsumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Read all partitions of a topic from low to high watermark; prints bytes/s and the low offsets as JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Topic.")
    var topic: String

    func run() throws {
        let start = BenchSupport.now()
        var config = ConsumerConfig(bootstrap: bootstrap)
        config.fetchWaitMaxMs = 10
        let consumer = try Consumer(config)
        defer { consumer.close() }
        let count = try consumer.partitionCount(topic: topic)
        var low: [Int32: Int64] = [:], high: [Int32: Int64] = [:], next: [Int32: Int64] = [:]
        var assignments: [PartitionAssignment] = []
        for p in 0..<Int32(count) {
            let w = try consumer.watermarks(topic: topic, partition: p)
            low[p] = w.low
            high[p] = w.high
            next[p] = w.low
            if w.high > w.low { assignments.append(PartitionAssignment(topic: topic, partition: p, offset: .offset(w.low))) }
        }
        let setup = BenchSupport.now() - start
        try consumer.assign(assignments)
        var bytes = 0, messages = 0
        func pending() -> Bool { next.contains { p, n in n < (high[p] ?? 0) } }
        while pending() {
            for event in consumer.poll(maxMessages: 1024, timeout: .milliseconds(100)) {
                switch event {
                case .message(let m):
                    bytes += m.value.count
                    messages += 1
                    next[m.partition] = max(next[m.partition] ?? 0, m.offset + 1)
                case .partitionEOF(_, let p, let offset):
                    next[p] = max(next[p] ?? 0, offset)
                case .error(let e):
                    throw BenchError("consume \(topic): \(e)")
                }
            }
            if BenchSupport.now() - start > 600 { throw BenchError("consume \(topic): not at the end after 600 s") }
        }
        let elapsed = BenchSupport.now() - start
        try BenchSupport.emit([
            "bytes": bytes, "messages": messages, "seconds": elapsed, "setup_seconds": setup,
            "bytes_per_s": Double(bytes) / elapsed, "partitions": count,
            "low_offsets": Dictionary(uniqueKeysWithValues: low.map { (String($0.key), $0.value) }),
        ])
    }
}
