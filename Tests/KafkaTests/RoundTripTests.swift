import Foundation
import Testing
@testable import Kafka

@Suite("Producer/consumer round trips against odl broker")
struct RoundTripTests {
    @Test("keys, values, headers and timestamps survive a round trip", arguments: BrokerKind.forTests)
    func roundTrip(kind: BrokerKind) async throws {
        let topic = uniqueTopic("rt")
        // Created up front: on the real broker an auto-created topic has time retention (see BrokerProcess).
        let broker = try BrokerProcess(arguments: ["--topic", "\(topic):1"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        let base: Int64 = 1_700_000_000_000
        var reports: [DeliveryReport] = []
        for i in 0..<5 {
            let r = try await producer.send(topic: topic, partition: 0, key: Array("k\(i)".utf8), value: Array("value-\(i)".utf8),
                                            headers: [KafkaHeader("h", "x\(i)"), KafkaHeader(key: "bin", value: [0, 255, UInt8(i)]),
                                                      KafkaHeader(key: "null", value: nil)],
                                            timestamp: base + Int64(i) * 1000)
            reports.append(r)
        }
        // A message without key, headers or timestamp; and an empty value.
        let plain = try producer.sendSync(topic: topic, partition: 0, value: [])
        #expect(reports.map(\.offset) == [0, 1, 2, 3, 4])
        #expect(reports.allSatisfy { $0.partition == 0 && $0.topic == topic })
        #expect(plain.offset == 5)
        producer.close()

        let bootstrap = broker.bootstrap
        let got = try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning)])
            return collect(consumer, count: 6)
        }
        #expect(got.messages.count == 6)
        for (i, m) in got.messages.prefix(5).enumerated() {
            #expect(m.topic == topic)
            #expect(m.partition == 0)
            #expect(m.offset == Int64(i))
            #expect(m.key == Array("k\(i)".utf8))
            #expect(m.value == Array("value-\(i)".utf8))
            #expect(m.headers == [KafkaHeader("h", "x\(i)"), KafkaHeader(key: "bin", value: [0, 255, UInt8(i)]),
                                  KafkaHeader(key: "null", value: nil)])
            #expect(m.header("bin") == [0, 255, UInt8(i)])
            #expect(m.timestamp == base + Int64(i) * 1000)
            #expect(m.timestampType == .createTime)
        }
        if got.messages.count == 6 {
            let last = got.messages[5]
            #expect(last.key == nil)
            #expect(last.value == [])
            #expect(last.headers.isEmpty)
            // No timestamp given: librdkafka stamps "now".
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            #expect(abs((last.timestamp ?? 0) - now) < 60_000)
        }
        #expect(broker.stop() == 0)
    }

    @Test("assign at offset N reads from N; watermarks; seek; partition EOF", arguments: BrokerKind.forTests)
    func assignAtOffset(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "seek-topic:3"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        for i in 0..<10 {
            _ = try await producer.send(topic: "seek-topic", partition: 2, value: Array("m\(i)".utf8))
        }
        producer.close()
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            #expect(try consumer.partitionCount(topic: "seek-topic") == 3)
            #expect(try consumer.watermarks(topic: "seek-topic", partition: 2) == Watermarks(low: 0, high: 10))
            #expect(try consumer.watermarks(topic: "seek-topic", partition: 0) == Watermarks(low: 0, high: 0))

            try consumer.assign([PartitionAssignment(topic: "seek-topic", partition: 2, offset: .offset(7))])
            var got = collect(consumer, count: 3)
            #expect(got.messages.map(\.offset) == [7, 8, 9])
            #expect(got.messages.map { String(decoding: $0.value, as: UTF8.self) } == ["m7", "m8", "m9"])
            // Caught up: the partition EOF event names the next offset.
            var eof = got.events.contains(.partitionEOF(topic: "seek-topic", partition: 2, offset: 10))
            let deadline = ContinuousClock.now + .seconds(5)
            while !eof && ContinuousClock.now < deadline {
                eof = consumer.poll(maxMessages: 10, timeout: .milliseconds(100))
                    .contains(.partitionEOF(topic: "seek-topic", partition: 2, offset: 10))
            }
            #expect(eof)

            try consumer.seek(topic: "seek-topic", partition: 2, offset: .offset(3))
            got = collect(consumer, count: 2)
            #expect(got.messages.prefix(2).map(\.offset) == [3, 4])

            // .end reads only what comes later.
            try consumer.assign([PartitionAssignment(topic: "seek-topic", partition: 2, offset: .end)])
            #expect(collect(consumer, count: 1, timeout: .milliseconds(700)).messages.isEmpty)
        }
        #expect(broker.stop() == 0)
    }

    /// On the real broker the topic is created with EasyRec's max.message.bytes (its default, like
    /// Kafka's, is 1 MiB: an auto-created topic rejects the message).
    @Test("a 10 MiB message round-trips", arguments: BrokerKind.forTests)
    func largeMessage(kind: BrokerKind) async throws {
        let topic = uniqueTopic("big")
        let broker = try BrokerProcess(arguments: ["--topic", "\(topic):1"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        let size = 10 * 1024 * 1024
        var value = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 4096) { value[i] = UInt8(truncatingIfNeeded: i / 4096) }
        value[size - 1] = 0xAB
        let report = try await producer.send(topic: topic, partition: 0, key: [1], value: value)
        #expect(report.offset == 0)
        producer.close()
        let bootstrap = broker.bootstrap
        let got = try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning)])
            return collect(consumer, count: 1, timeout: .seconds(15))
        }
        #expect(got.messages.count == 1)
        #expect(got.messages.first?.value.count == size)
        #expect(got.messages.first?.value == value)
        #expect(broker.stop() == 0)
    }

    @Test("close() flushes: messages queued just before close are readable after", arguments: BrokerKind.forTests)
    func closeFlushes(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(kind: kind)
        let topic = uniqueTopic("flush")
        let bootstrap = broker.bootstrap
        // Fire-and-forget sends whose delivery is not awaited, then close immediately.
        var config = ProducerConfig(bootstrap: bootstrap)
        config.lingerMs = 200
        let producer = try Producer(config)
        let tasks = (0..<20).map { i in
            Task { try await producer.send(topic: topic, partition: 0, value: Array("f\(i)".utf8)) }
        }
        // Wait until all 20 are queued in librdkafka (linger keeps them unsent).
        let deadline = ContinuousClock.now + .seconds(5)
        while producer.outstanding < 20 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        #expect(producer.outstanding == 20)
        producer.close()
        #expect(producer.outstanding == 0)
        var offsets: [Int64] = []
        for t in tasks { offsets.append(try await t.value.offset) }
        #expect(offsets.sorted() == Array(0..<20))
        let got = try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning)])
            return collect(consumer, count: 20)
        }
        #expect(got.messages.count == 20)
        #expect(Set(got.messages.map { String(decoding: $0.value, as: UTF8.self) }) == Set((0..<20).map { "f\($0)" }))
        // A closed producer refuses new sends with a typed error.
        #expect(throws: KafkaError.self) { try producer.sendSync(topic: topic, value: [1]) }
        #expect(broker.stop() == 0)
    }
}
