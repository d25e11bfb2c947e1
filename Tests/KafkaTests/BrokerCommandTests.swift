import Foundation
import Testing
@testable import Kafka

@Suite("odl broker command")
struct BrokerCommandTests {
    @Test("--brokers, repeated --topic, --bootstrap-file; SIGINT exits 0")
    func options() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bootstrap-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        let broker = try BrokerProcess(arguments: ["--brokers", "3", "--topic", "a:3", "--topic", "b.x:5",
                                                   "--bootstrap-file", file.path])
        #expect(broker.bootstrap.split(separator: ",").count == 3)
        #expect(broker.bootstrap.split(separator: ",").allSatisfy { $0.hasPrefix("127.0.0.1:") })
        let written = try String(contentsOf: file, encoding: .utf8)
        #expect(written == broker.bootstrap + "\n")
        let bootstrap = broker.bootstrap
        try await onThread {
            let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
            defer { consumer.close() }
            #expect(try consumer.partitionCount(topic: "a") == 3)
            #expect(try consumer.partitionCount(topic: "b.x") == 5)
        }
        broker.signal(SIGINT)
        #expect(broker.stop() == 0)
    }
}
