import Foundation
import Testing
@testable import Kafka

@Suite("Borrowing poll against odl broker")
struct BorrowedPollTests {
    @Test("the borrowing poll sees the same messages as the copying poll; ends and errors come back as events", arguments: BrokerKind.forTests)
    func borrowedMatchesCopied(kind: BrokerKind) async throws {
        let topic = uniqueTopic("borrow")
        let broker = try BrokerProcess(arguments: ["--topic", "\(topic):2"], kind: kind)
        let producer = try Producer(bootstrap: broker.bootstrap)
        let base: Int64 = 1_700_000_000_000
        for i in 0..<40 {
            let value = (0..<(i * 97 % 700)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            _ = try await producer.send(topic: topic, partition: Int32(i % 2), key: i % 5 == 0 ? nil : Array("k\(i)".utf8),
                                        value: value, timestamp: base + Int64(i))
        }
        producer.close()
        let bootstrap = broker.bootstrap
        @Sendable func assignBoth(_ c: Consumer) throws {
            try c.assign([PartitionAssignment(topic: topic, partition: 0, offset: .beginning),
                          PartitionAssignment(topic: topic, partition: 1, offset: .beginning)])
        }
        let copied = try await onThread {
            let c = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { c.close() }
            try assignBoth(c)
            return collect(c, count: 40).messages
        }
        let borrowed = try await onThread { () -> (messages: [KafkaMessage], ends: [Int32: Int64]) in
            let c = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { c.close() }
            try assignBoth(c)
            var messages: [KafkaMessage] = []
            var ends: [Int32: Int64] = [:]
            let deadline = ContinuousClock.now + .seconds(10)
            while (messages.count < 40 || ends.count < 2) && ContinuousClock.now < deadline {
                let other = c.poll(maxMessages: 7, timeout: .milliseconds(100)) { m in messages.append(m.copied(topic: topic)) }
                for e in other {
                    if case .partitionEOF(_, let p, let o) = e { ends[p] = o }
                    #expect(e.message == nil)
                }
            }
            return (messages, ends)
        }
        #expect(copied.count == 40)
        #expect(borrowed.messages.count == 40)
        func byPosition(_ ms: [KafkaMessage]) -> [String: KafkaMessage] {
            Dictionary(ms.map { ("\($0.partition)/\($0.offset)", $0) }, uniquingKeysWith: { a, _ in a })
        }
        let a = byPosition(copied), b = byPosition(borrowed.messages)
        #expect(a.count == 40)
        for (pos, m) in a {
            let n = b[pos]
            #expect(n?.key == m.key, "\(pos)")
            #expect(n?.value == m.value, "\(pos)")
            #expect(n?.timestamp == m.timestamp, "\(pos)")
            #expect(n?.timestampType == m.timestampType, "\(pos)")
        }
        #expect(borrowed.ends == [0: 20, 1: 20])
        // A closed consumer: no messages, one error event.
        let closed = try Consumer(ConsumerConfig(bootstrap: bootstrap))
        closed.close()
        var calls = 0
        let events = closed.poll(maxMessages: 10, timeout: .milliseconds(10)) { _ in calls += 1 }
        #expect(calls == 0)
        #expect(events.count == 1 && events.first?.message == nil)
        #expect(broker.stop() == 0)
    }
}
