import Foundation
import Testing
@testable import Kafka

@Suite("Throughput on the embedded broker (measured, printed)")
struct ThroughputTests {
    @Test("pipelined async sends, blocking sends, and replay from the beginning")
    func throughput() async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "tp:1"])
        let bootstrap = broker.bootstrap
        let producer = try Producer(bootstrap: bootstrap)
        let n = 20_000
        let value = [UInt8](repeating: 42, count: 200)
        var start = ContinuousClock.now
        let offsets = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<n {
                group.addTask { try await producer.send(topic: "tp", partition: 0, key: Array("\(i)".utf8), value: value).offset }
            }
            var all: [Int64] = []
            for try await o in group { all.append(o) }
            return all
        }
        let asyncTime = ContinuousClock.now - start
        #expect(Set(offsets).count == n)
        producer.close()
        // One message at a time, each waiting for its acknowledgement (the trainer's pattern).
        let syncProducer = try Producer(bootstrap: bootstrap)
        start = ContinuousClock.now
        let syncCount = 200
        try await onThread {
            for _ in 0..<syncCount { _ = try syncProducer.sendSync(topic: "tp", partition: 0, value: value) }
        }
        let syncTime = ContinuousClock.now - start
        syncProducer.close()

        start = ContinuousClock.now
        let total = n + syncCount
        let got = try await onThread {
            var config = ConsumerConfig(bootstrap: bootstrap)
            config.fetchWaitMaxMs = 10
            let consumer = try Consumer(config)
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: "tp", partition: 0, offset: .beginning)])
            return collect(consumer, count: total, timeout: .seconds(20)).messages.count
        }
        let replayTime = ContinuousClock.now - start
        #expect(got == total)
        func rate(_ count: Int, _ d: Duration) -> Int {
            Int(Double(count) / (Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18))
        }
        print("throughput: async pipelined send \(rate(n, asyncTime)) msg/s (\(n) x 200 B in \(asyncTime)); "
              + "blocking sendSync \(rate(syncCount, syncTime)) msg/s; replay \(rate(total, replayTime)) msg/s")
        #expect(broker.stop() == 0)
    }
}

@Suite("Tail latency on the embedded broker (measured, printed)")
struct LatencyTests {
    @Test("a tailing consumer with fetchWaitMaxMs=5 sees each acknowledged message promptly")
    func tailLatency() async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "lat:1"])
        let bootstrap = broker.bootstrap
        let latencies = try await onThread {
            let producer = try Producer(bootstrap: bootstrap)
            defer { producer.close() }
            var config = ConsumerConfig(bootstrap: bootstrap)
            config.fetchWaitMaxMs = 5
            let consumer = try Consumer(config)
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: "lat", partition: 0, offset: .end)])
            _ = consumer.poll(maxMessages: 10, timeout: .milliseconds(100))
            var out: [Duration] = []
            for i in 0..<50 {
                let start = ContinuousClock.now
                _ = try producer.sendSync(topic: "lat", partition: 0, value: [UInt8(i)])
                var seen = false
                while !seen && ContinuousClock.now - start < .seconds(2) {
                    seen = consumer.poll(maxMessages: 10, timeout: .milliseconds(50)).contains { $0.message?.value == [UInt8(i)] }
                }
                #expect(seen, "message \(i) not seen within 2 s")
                out.append(ContinuousClock.now - start)
            }
            return out.sorted()
        }
        print("latency: produce+ack+consume p50 \(latencies[latencies.count / 2]), p90 \(latencies[latencies.count * 9 / 10]), max \(latencies.last ?? .zero)")
        #expect(broker.stop() == 0)
    }
}
