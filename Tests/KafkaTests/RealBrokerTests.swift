import Foundation
import Testing
@testable import Kafka

/// What only the real broker implements: ListOffsets by timestamp, CreateTopics with EasyRec's
/// settings, 64 MiB messages, topic deletion, and a restart that keeps the data.
@Suite("Real broker capabilities")
struct RealBrokerTests {
    @Test("offsetsForTimes: ListOffsets answers on the real broker; the embedded one needs the binary search",
          arguments: BrokerKind.forTests)
    func listOffsetsByTimestamp(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "ts-lookup:1"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        for i in 0..<8 {
            _ = try await producer.send(topic: "ts-lookup", partition: 0, value: [UInt8(i)], timestamp: 10_000 + Int64(i) * 1000)
        }
        producer.close()
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            let found = try consumer.offsetsForTimesDetailed(topic: "ts-lookup", timestamp: 12_500, timeout: .seconds(10))
            #expect(found.offsets == [0: 3])
            #expect(found.searched == (kind == .real ? [] : [0]), "ListOffsets by timestamp: \(kind) broker")
            #expect(try consumer.offsetsForTimes(topic: "ts-lookup", timestamp: 99_000) == [0: 8])
        }
        #expect(broker.stop() == 0)
    }

    /// Why the test harness creates topics with `RealBroker.noTimeRetention`: the broker applies the default
    /// 7-day retention about once a second by message timestamp, so historically stamped messages vanish.
    @Test("default time retention deletes historically stamped messages within seconds; retention.ms -1 keeps them",
          .enabled(if: BrokerKind.forTests.contains(.real)))
    func historicTimestampsNeedNoTimeRetention() async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "kept:1"], kind: .real)
        let producer = try Producer(bootstrap: broker.bootstrap)
        for topic in ["aged", "kept"] {   // "aged" is auto-created with the broker's defaults
            for i in 0..<3 {
                _ = try await producer.send(topic: topic, partition: 0, value: [UInt8(i)], timestamp: 1_600_000_000_000 + Int64(i))
            }
        }
        producer.close()
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            var aged = try consumer.watermarks(topic: "aged", partition: 0)
            let deadline = ContinuousClock.now + .seconds(10)
            while aged.low < 3 && ContinuousClock.now < deadline {
                usleep(100_000)
                aged = try consumer.watermarks(topic: "aged", partition: 0)
            }
            #expect(aged == Watermarks(low: 3, high: 3), "default retention.ms (7 days) against 2020 timestamps")
            // Two more retention passes (about 1 s apart) leave the other topic whole.
            usleep(2_500_000)
            #expect(try consumer.watermarks(topic: "kept", partition: 0) == Watermarks(low: 0, high: 3))
            #expect(try consumer.offsetsForTimes(topic: "kept", timestamp: 0) == [0: 0])
        }
        #expect(broker.stop() == 0)
    }

    @Test("CreateTopics with EasyRec's settings creates the topic; a 64 MiB message round-trips on it",
          .enabled(if: BrokerKind.forTests.contains(.real)))
    func createTopicAnd64MiB() async throws {
        let broker = try BrokerProcess(kind: .real)
        let bootstrap = broker.bootstrap
        let topic = uniqueTopic("easyrec")
        try await onThread {
            let admin = try Admin(bootstrap: bootstrap)
            defer { admin.close() }
            #expect(try admin.topicExists(topic) == false)
            let config = ["max.message.bytes": "1073741824"]
            #expect(try admin.createTopic(name: topic, partitions: 1, config: config, timeout: .seconds(10)) == .created)
            #expect(try admin.createTopic(name: topic, partitions: 1, config: config, timeout: .seconds(10)) == .alreadyExists)
            #expect(try admin.topicExists(topic))
        }
        var value = [UInt8](repeating: 0, count: 64 << 20)
        for i in stride(from: 0, to: value.count, by: 4093) { value[i] = UInt8(truncatingIfNeeded: i / 4093) }
        let producer = try Producer(bootstrap: bootstrap)
        let report = try await producer.send(topic: topic, partition: 0, value: value)
        producer.close()
        #expect(report.offset == 0)
        let expected = value
        let got = try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning)])
            return collect(consumer, count: 1, timeout: .seconds(30))
        }
        #expect(got.messages.count == 1)
        #expect(got.messages.first?.value == expected)
        #expect(broker.stop() == 0)
    }

    @Test("a graceful broker restart keeps every message and the offsets continue",
          .enabled(if: BrokerKind.forTests.contains(.real)))
    func restartKeepsData() async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "durable:1"], kind: .real)
        guard let real = broker.real else { throw HarnessError(description: "no real broker") }
        let producer = try Producer(bootstrap: broker.bootstrap)
        for i in 0..<10 { _ = try await producer.send(topic: "durable", partition: 0, value: [UInt8(i)]) }
        producer.close()
        real.stop(graceful: true)
        #expect(!real.isRunning)
        try real.start()
        let again = try Producer(bootstrap: broker.bootstrap)
        let r = try await again.send(topic: "durable", partition: 0, value: [10])
        again.close()
        #expect(r.offset == 10)
        let bootstrap = broker.bootstrap
        let got = try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: "durable", partition: 0, offset: .beginning)])
            return collect(consumer, count: 11)
        }
        #expect(got.messages.map(\.value) == (0..<11).map { [UInt8($0)] })
        #expect(broker.stop() == 0)
    }

    @Test("ODL_TEST_KAFKA selects the broker kinds and rejects other values")
    func selection() throws {
        #expect(try BrokerKind.selected(environment: [:]) == [.embedded, .real])
        #expect(try BrokerKind.selected(environment: ["ODL_TEST_KAFKA": "both"]) == [.embedded, .real])
        #expect(try BrokerKind.selected(environment: ["ODL_TEST_KAFKA": "real"]) == [.real])
        #expect(try BrokerKind.selected(environment: ["ODL_TEST_KAFKA": "embedded"]) == [.embedded])
        #expect(throws: RealBrokerError.self) { try BrokerKind.selected(environment: ["ODL_TEST_KAFKA": "mock"]) }
        #expect(throws: RealBrokerError.self) { try RealBroker.locateBinary(environment: ["HOME": "/nonexistent"]) }
    }
}
