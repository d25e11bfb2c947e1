import Foundation
import Testing
@testable import Kafka

@Suite("Timestamp to offset")
struct TimestampTests {
    @Test("offsetsForTimes finds the first message at or after a timestamp", arguments: BrokerKind.forTests)
    func offsetsForTimes(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "ts-topic:2"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        // Partition 0: 40 messages at t = 1000, 1010, ... (pairs share a timestamp); partition 1: empty.
        let base: Int64 = 1_600_000_000_000
        for i in 0..<40 {
            _ = try await producer.send(topic: "ts-topic", partition: 0, value: Array("t\(i)".utf8),
                                        timestamp: base + Int64(i / 2) * 10)
        }
        producer.close()
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            // Exactly a message's timestamp: the first of the pair.
            #expect(try consumer.offsetsForTimes(topic: "ts-topic", timestamp: base + 50) == [0: 10, 1: 0])
            // Between timestamps: the next message.
            #expect(try consumer.offsetsForTimes(topic: "ts-topic", timestamp: base + 51)[0] == 12)
            // Before everything: the first offset.
            #expect(try consumer.offsetsForTimes(topic: "ts-topic", timestamp: 0)[0] == 0)
            // Last timestamp.
            #expect(try consumer.offsetsForTimes(topic: "ts-topic", timestamp: base + 190)[0] == 38)
            // After everything: the end (high watermark).
            #expect(try consumer.offsetsForTimes(topic: "ts-topic", timestamp: base + 10_000)[0] == 40)
        }
        #expect(broker.stop() == 0)
    }
}
