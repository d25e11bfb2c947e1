import Foundation
import Kafka

/// `odl bench consume`: a bare consumer reading every partition of a topic from its low to its
/// high watermark as seen at start (the peer of a restarted processor's replay).
package struct ConsumeBench {
    package var bootstrap: String
    package var topic: String

    package init(bootstrap: String, topic: String) {
        self.bootstrap = bootstrap
        self.topic = topic
    }

    package func run() throws {
        let start = BenchSupport.now()
        var config = ConsumerConfig(bootstrap: bootstrap)
        config.fetchWaitMaxMs = 10
        let consumer = try Consumer(config)
        defer { consumer.close() }
        let count = try consumer.partitionCount(topic: topic)
        var low: [Int32: Int64] = [:], high: [Int32: Int64] = [:], next: [Int32: Int64] = [:]
        var assignments: [PartitionAssignment] = []
        let partitions = (0..<Int32(count)).map { $0 }
        let marks = try consumer.watermarks(topic: topic, partitions: partitions)
        for (p, w) in zip(partitions, marks) {
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
