import Foundation
import Testing
@testable import Kafka

@Suite("Group commits")
struct GroupCommitTests {
    @Test("a restarted consumer with the same group resumes at the committed offset", arguments: BrokerKind.forTests)
    func resumeAtCommitted(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "grp:1"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        for i in 0..<10 { _ = try await producer.send(topic: "grp", partition: 0, value: Array("g\(i)".utf8)) }
        producer.close()
        let bootstrap = broker.bootstrap
        let group = "g-\(UUID().uuidString)"
        try await onThread {
            var config = ConsumerConfig(bootstrap: bootstrap, groupID: group)
            config.sessionTimeoutMs = 6000
            let first = try Consumer(config)
            #expect(try first.committed(topic: "grp", partitions: [0]).isEmpty)
            try first.assign([PartitionAssignment(topic: "grp", partition: 0, offset: .beginning)])
            let got = collect(first, count: 4)
            #expect(got.messages.prefix(4).map(\.offset) == [0, 1, 2, 3])
            try first.commit(topic: "grp", partition: 0, nextOffset: 4)
            first.close()

            let second = try Consumer(config)
            defer { second.close() }
            #expect(try second.committed(topic: "grp", partitions: [0]) == [0: 4])
            try second.assign([PartitionAssignment(topic: "grp", partition: 0, offset: .committed)])
            let rest = collect(second, count: 6)
            #expect(rest.messages.map(\.offset) == [4, 5, 6, 7, 8, 9])

            // Commit without a group is a typed error, not a crash.
            let loner = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { loner.close() }
            #expect(throws: KafkaError.self) { try loner.commit(topic: "grp", partition: 0, nextOffset: 1) }
        }
        #expect(broker.stop() == 0)
    }
}
