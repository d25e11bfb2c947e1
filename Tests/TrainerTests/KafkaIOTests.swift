import Foundation
import Kafka
import Logging
import Testing
@testable import Trainer

/// The Kafka sample source and update sink against an in-process embedded broker and a real one.
@Suite(.serialized) struct KafkaIOTests {
    let logger = Logger(label: "test")

    /// On the real broker the sink itself creates the topic (CreateTopics with EasyRec's settings).
    @Test(arguments: BrokerKind.forTests)
    func updateSinkTracksNextOffsetFromAcknowledgements(kind: BrokerKind) throws {
        let broker = try TestBroker(kind, topics: kind == .embedded ? ["updates:1"] : [])
        defer { broker.close() }
        let sink = try KafkaUpdateSink(server: broker.bootstrap, topic: "updates", adminTimeout: kind == .real ? .seconds(10) : .milliseconds(200),
                                       logger: logger)
        if kind == .real {
            let admin = try Admin(bootstrap: broker.bootstrap)
            defer { admin.close() }
            #expect(try admin.topicExists("updates"))
        }
        #expect(sink.nextOffsets == [0: 0])
        try sink.send(key: "dense_update_2", value: [1, 2, 3])
        try sink.send(key: "sparse_update_3", value: [4])
        #expect(sink.nextOffsets == [0: 2])
        sink.close()
        // A later trainer (restart) starts from the topic's end, not from 0.
        let again = try KafkaUpdateSink(server: broker.bootstrap, topic: "updates", adminTimeout: .milliseconds(200), logger: logger)
        #expect(again.nextOffsets == [0: 2])
        again.close()
        let consumer = try Consumer(ConsumerConfig(bootstrap: broker.bootstrap))
        defer { consumer.close() }
        try consumer.assign([PartitionAssignment(topic: "updates", partition: 0, offset: .offset(0))])
        var keys: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while keys.count < 2 && Date() < deadline {
            for e in consumer.poll(maxMessages: 10, timeout: .milliseconds(100)) {
                if let m = e.message { keys.append(String(decoding: m.key ?? [], as: UTF8.self)) }
            }
        }
        #expect(keys == ["dense_update_2", "sparse_update_3"])
    }

    @Test func undeliverableUpdateFailsLoudlyAfterRetries() throws {
        let broker = try EmbeddedBroker()
        defer { broker.close() }
        try broker.createTopic(name: "updates", partitions: 1)
        let sink = try KafkaUpdateSink(server: broker.bootstrap, topic: "updates", settings: ["message.timeout.ms": "700"],
                                       attempts: 2, adminTimeout: .milliseconds(200), logger: logger)
        defer { sink.close() }
        try broker.setAllBrokers(down: true)
        #expect(throws: TrainerError.self) { try sink.send(key: "dense_update_5", value: [0]) }
        #expect(sink.nextOffsets == [0: 0])
    }

    @Test(arguments: BrokerKind.forTests)
    func sampleSourceStartsTimesLagAndCommits(kind: BrokerKind) throws {
        let broker = try TestBroker(kind, topics: ["samples:2"])
        defer { broker.close() }
        let producer = try Producer(bootstrap: broker.bootstrap)
        for i in 0..<20 {
            _ = try producer.sendSync(topic: "samples", partition: Int32(i % 2), key: Array("k\(i)".utf8),
                                      value: Array("\(i)".utf8), timestamp: 1_000_000 + Int64(i / 2) * 1000)
        }
        producer.close()
        let source = try KafkaSampleSource(server: broker.bootstrap, topic: "samples", group: "g-\(UUID().uuidString.prefix(6))",
                                           settings: [:], logger: logger)
        defer { source.close() }
        #expect(try source.partitions() == [0, 1])
        // Per partition, message k has timestamp 1_000_000 + k s: the first at/after 1_004_500 ms is offset 5.
        #expect(try source.offsetForTime(partition: 0, unixMillis: 1_004_500) == 5)
        #expect(try source.offsetForTime(partition: 1, unixMillis: 1_004_500) == 5)
        #expect(try source.offsetForTime(partition: 1, unixMillis: 9_000_000) == 10)
        try source.start([PartitionStart(partition: 0, offset: 7, rule: .offsetInfo), PartitionStart(partition: 1, offset: 2, rule: .offsetInfo)])
        var got: [SampleRecord] = []
        let deadline = Date().addingTimeInterval(10)
        while got.count < 11 && Date() < deadline { got += try source.poll(maxRecords: 5, timeout: 0.1) }
        #expect(got.filter { $0.partition == 0 }.map(\.offset) == [7, 8, 9])
        #expect(got.filter { $0.partition == 1 }.map(\.offset) == Array(2...9))
        #expect(got.first { $0.partition == 0 }.map { String(decoding: $0.value, as: UTF8.self) } == "14")
        #expect(source.lag(positions: [0: 9, 1: 9]) == 0)
        #expect(source.lag(positions: [0: 4, 1: 9]) == 5)
        source.commit(positions: [0: 9, 1: 6])
        let check = try Consumer(ConsumerConfig(bootstrap: broker.bootstrap, groupID: source.group))
        defer { check.close() }
        #expect(try check.committed(topic: "samples", partitions: [0, 1]) == [0: 10, 1: 7])
        #expect(source.describe(got[0]).hasPrefix("topic samples partition "))
    }
}
