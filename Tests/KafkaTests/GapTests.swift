import Foundation
import Testing
@testable import Kafka

@Suite("Dropped data is visible")
struct GapTests {
    @Test("reading an offset the broker no longer holds yields an offset-out-of-range error event; seek recovers")
    func droppedOffsetIsReported() async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "gap:2"])
        var pconfig = ProducerConfig(bootstrap: broker.bootstrap)
        pconfig.lingerMs = 0
        let producer = try Producer(pconfig)
        // The embedded broker keeps about 5 MiB per partition: 12 x 1 MiB pushes the oldest out.
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<12 { _ = try await producer.send(topic: "gap", partition: 0, value: chunk) }
        for i in 0..<3 { _ = try await producer.send(topic: "gap", partition: 1, value: [UInt8(i)]) }
        producer.close()
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            let marks = try consumer.watermarks(topic: "gap", partition: 0)
            #expect(marks.high == 12)
            #expect(marks.low > 0, "the embedded broker should have dropped the oldest messages")
            try consumer.assign([PartitionAssignment(topic: "gap", partition: 0, offset: .offset(0)),
                                 PartitionAssignment(topic: "gap", partition: 1, offset: .beginning)])
            var gap: KafkaError?
            var messages: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(5)
            while (gap == nil || messages.count < 3) && ContinuousClock.now < deadline {
                for e in consumer.poll(maxMessages: 100, timeout: .milliseconds(50)) {
                    switch e {
                    case .message(let m): messages.append(m)
                    case .error(let err) where err.isOffsetOutOfRange: gap = err
                    default: break
                    }
                }
            }
            #expect(gap?.topic == "gap")
            #expect(gap?.partition == 0)
            #expect(messages.allSatisfy { $0.partition == 1 }, "a dropped offset must not be skipped silently")
            #expect(messages.map(\.offset) == [0, 1, 2])
            // The caller reports the gap and continues from the oldest held offset; partition 1
            // keeps its position (no re-delivery).
            try consumer.seek(topic: "gap", partition: 0, offset: .offset(marks.low))
            let rest = collect(consumer, count: Int(marks.high - marks.low))
            #expect(rest.messages.first?.offset == marks.low)
            #expect(rest.messages.map(\.partition) == Array(repeating: 0, count: Int(marks.high - marks.low)))
        }
        #expect(broker.stop() == 0)
    }

    @Test("watermarks of many partitions in one batch equal the one-by-one answers (dropped, short and empty partitions)",
          arguments: BrokerKind.forTests)
    func batchedWatermarksEqualSingleQueries(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "marks:3"], kind: kind)
        var pconfig = ProducerConfig(bootstrap: broker.bootstrap)
        pconfig.lingerMs = 0
        let producer = try Producer(pconfig)
        // The embedded broker drops the oldest of these (low watermark > 0); the real one keeps them.
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<12 { _ = try await producer.send(topic: "marks", partition: 0, value: chunk) }
        for i in 0..<3 { _ = try await producer.send(topic: "marks", partition: 1, value: [UInt8(i)]) }
        producer.close()
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            let batch = try consumer.watermarks(topic: "marks", partitions: [0, 1, 2])
            var single: [Watermarks] = []
            for p: Int32 in 0..<3 { single.append(try consumer.watermarks(topic: "marks", partition: p)) }
            #expect(batch == single)
            try #require(batch.count == 3)
            #expect(batch[0].high == 12)
            #expect(batch[1] == Watermarks(low: 0, high: 3))
            #expect(batch[2] == Watermarks(low: 0, high: 0))
            if kind == .embedded { #expect(batch[0].low > 0, "the embedded broker should have dropped the oldest messages") }
            #expect(try consumer.watermarks(topic: "marks", partitions: [2, 1]) == [single[2], single[1]])
            #expect(try consumer.watermarks(topic: "marks", partitions: []) == [])
        }
        #expect(broker.stop() == 0)
    }
}
