import Foundation
import Testing
@testable import Kafka

@Suite("Shutdown never hangs")
struct LifecycleTests {
    @Test("closing a producer with undeliverable messages fails them and returns within its timeout")
    func producerCloseWithBrokerDown() async throws {
        let broker = try EmbeddedBroker()
        try broker.createTopic(name: "stuck", partitions: 1)
        var config = ProducerConfig(bootstrap: broker.bootstrap)
        config.settings = ["log_level": "0"]
        let producer = try Producer(config)   // default 30 s delivery timeout
        _ = try await producer.send(topic: "stuck", partition: 0, value: [0])
        try broker.setBrokerDown(1)
        let pending = Task { try await producer.send(topic: "stuck", partition: 0, value: [1]) }
        let deadline = ContinuousClock.now + .seconds(5)
        while producer.outstanding == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let start = ContinuousClock.now
        producer.close(timeout: .milliseconds(300))
        #expect(ContinuousClock.now - start < .seconds(4))
        do {
            let r = try await pending.value
            Issue.record("undeliverable message reported as delivered: \(r)")
        } catch let error as KafkaError {
            #expect(error.name.hasPrefix("_PURGE"), "\(error)")
        }
        broker.close()
    }

    @Test("consumers with and without a group close promptly even when the broker is gone")
    func consumerCloseWithBrokerGone() async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "gone:1"])
        let bootstrap = broker.bootstrap
        let producer = try Producer(bootstrap: bootstrap)
        _ = try await producer.send(topic: "gone", partition: 0, value: [1])
        producer.close()
        try await onThread {
            var config = ConsumerConfig(bootstrap: bootstrap, groupID: "gone-\(UUID().uuidString)")
            config.settings = ["log_level": "0"]
            let grouped = try Consumer(config)
            try grouped.assign([PartitionAssignment(topic: "gone", partition: 0, offset: .beginning)])
            #expect(collect(grouped, count: 1).messages.count == 1)
            try grouped.commit(topic: "gone", partition: 0, nextOffset: 1)
            config.groupID = nil
            let plain = try Consumer(config)
            try plain.assign([PartitionAssignment(topic: "gone", partition: 0, offset: .beginning)])
            #expect(collect(plain, count: 1).messages.count == 1)
            #expect(broker.stop() == 0)
            _ = plain.poll(maxMessages: 10, timeout: .milliseconds(200))
            let start = ContinuousClock.now
            grouped.close()
            plain.close()
            #expect(ContinuousClock.now - start < .seconds(5))
            // Calls on a closed consumer are typed errors, not crashes.
            #expect(throws: KafkaError.self) { try plain.watermarks(topic: "gone", partition: 0) }
            #expect(plain.poll(maxMessages: 1, timeout: .zero) == [.error(KafkaError.closed("poll"))])
        }
    }
}
