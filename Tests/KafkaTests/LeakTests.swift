import Foundation
import Testing
@testable import Kafka

/// Threads and file descriptors must return to their baseline after create/use/close cycles.
/// Process-wide counts are disturbed by tests running in parallel, so this runs only on request:
/// `ODL_LEAK_CHECK=1 swift test --filter leakCheck`.
@Test("no thread or file-descriptor leak over client lifecycles (ODL_LEAK_CHECK=1)",
      .enabled(if: ProcessInfo.processInfo.environment["ODL_LEAK_CHECK"] != nil))
func leakCheck() async throws {
    let broker = try EmbeddedBroker()
    try broker.createTopic(name: "lp", partitions: 2)
    @Sendable func counts() -> (threads: Int, fds: Int) {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1,
         (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1)
    }
    let bootstrap = broker.bootstrap
    let (before, after) = try await onThread {
        let warm = try Producer(bootstrap: bootstrap)
        _ = try warm.sendSync(topic: "lp", partition: 0, value: [1])
        warm.close()
        let before = counts()
        for i in 0..<10 {
            let p = try Producer(bootstrap: bootstrap)
            _ = try p.sendSync(topic: "lp", partition: 0, value: [UInt8(i)], headers: [KafkaHeader("a", "b")])
            p.close()
            let c = try Consumer(ConsumerConfig(bootstrap: bootstrap, groupID: "lp\(i)"))
            try c.assign([PartitionAssignment(topic: "lp", partition: 0, offset: .beginning)])
            #expect(collect(c, count: 1).messages.count >= 1)
            _ = try c.watermarks(topic: "lp", partition: 0)
            _ = try c.offsetsForTimes(topic: "lp", timestamp: 0)
            try c.commit(topic: "lp", partition: 0, nextOffset: 1)
            _ = try c.committed(topic: "lp", partitions: [0, 1])
            _ = try c.partitionCount(topic: "lp")
            c.close()
            let a = try Admin(bootstrap: bootstrap)
            _ = try a.createTopic(name: "lp2", partitions: 1, timeout: .milliseconds(200))
            a.close()
        }
        usleep(200_000)
        return (before, counts())
    }
    print("leak check: threads \(before.threads) -> \(after.threads), fds \(before.fds) -> \(after.fds)")
    #expect(after.threads <= before.threads + 1)
    #expect(after.fds <= before.fds)
    broker.close()
}
