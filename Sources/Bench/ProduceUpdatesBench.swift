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
package struct ProduceUpdatesBench {
    package var bootstrap: String
    package var topic: String
    package var partition: Int32 = 0
    package var spread: Int32 = 0
    package var export: String
    package var rate: Int = 0
    package var seconds: Double?
    package var bytes: Int?
    package var rowsPerMessage: Int = 1000
    package var startStep: Int = 1
    package var maxInFlight: Int = 256

    package init(bootstrap: String, topic: String, partition: Int32 = 0, spread: Int32 = 0, export: String,
                 rate: Int = 0, seconds: Double?, bytes: Int?, rowsPerMessage: Int = 1000, startStep: Int = 1,
                 maxInFlight: Int = 256) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.partition = partition
        self.spread = spread
        self.export = export
        self.rate = rate
        self.seconds = seconds
        self.bytes = bytes
        self.rowsPerMessage = rowsPerMessage
        self.startStep = startStep
        self.maxInFlight = maxInFlight
    }

    package func run() async throws {
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
