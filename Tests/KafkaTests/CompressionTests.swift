import Foundation
import Testing
@testable import Kafka

@Suite("Compression codecs")
struct CompressionTests {
    @Test("gzip, snappy, lz4 and zstd batches round-trip", arguments: ["gzip", "snappy", "lz4", "zstd"], BrokerKind.forTests)
    func codec(_ codec: String, kind: BrokerKind) async throws {
        let broker = try BrokerProcess(kind: kind)
        let topic = uniqueTopic("c-\(codec)")
        var config = ProducerConfig(bootstrap: broker.bootstrap)
        config.compression = codec
        let producer = try Producer(config)
        let value = Array(String(repeating: "compressible update payload ", count: 2000).utf8)
        for _ in 0..<3 { _ = try await producer.send(topic: topic, partition: 0, value: value) }
        producer.close()
        let bootstrap = broker.bootstrap
        let got = try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning)])
            return collect(consumer, count: 3).messages
        }
        #expect(got.count == 3)
        #expect(got.allSatisfy { $0.value == value })
        #expect(broker.stop() == 0)
    }
}
