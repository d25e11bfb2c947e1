import Foundation
import Testing
@testable import Kafka

@Suite("Admin and configuration errors")
struct AdminTests {
    @Test("createTopic returns within its timeout, never hangs (.unsupported on the embedded broker)", arguments: BrokerKind.forTests)
    func createTopicBounded(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(kind: kind)
        let bootstrap = broker.bootstrap
        try await onThread {
            let admin = try Admin(bootstrap: bootstrap)
            defer { admin.close() }
            let start = ContinuousClock.now
            let result = try admin.createTopic(name: "adm", partitions: 3, timeout: .seconds(1))
            #expect(ContinuousClock.now - start < .seconds(5))
            switch result {
            case .unsupported(let e): #expect(e.topic == "adm")
            case .created, .alreadyExists: break   // a broker that implements CreateTopics
            }
            #expect(throws: KafkaError.self) { try admin.createTopic(name: "adm", partitions: 0) }
        }
        #expect(broker.stop() == 0)
    }

    @Test("topicExists sees pre-created topics and does not create the ones it asks about", arguments: BrokerKind.forTests)
    func topicExistsDoesNotAutoCreate(kind: BrokerKind) async throws {
        let broker = try BrokerProcess(arguments: ["--topic", "present:2"], kind: kind)
        let bootstrap = broker.bootstrap
        try await onThread {
            let admin = try Admin(bootstrap: bootstrap)
            defer { admin.close() }
            let start = ContinuousClock.now
            #expect(try admin.topicExists("present"))
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(try admin.topicExists("absent") == false)
            #expect(try admin.topicExists("absent") == false)  // asking did not auto-create it
        }
        #expect(broker.stop() == 0)
    }

    @Test("bad settings are typed errors naming the key")
    func badSettings() throws {
        do {
            _ = try Producer(bootstrap: "127.0.0.1:1", settings: ["no.such.setting": "1"])
            Issue.record("accepted an unknown setting")
        } catch {
            #expect(error.operation == "producer config")
            #expect(error.message.contains("no.such.setting"))
        }
        #expect(throws: KafkaError.self) { _ = try Consumer(ConsumerConfig(bootstrap: "x", settings: ["fetch.wait.max.ms": "abc"])) }
    }

    @Test("odl broker rejects a malformed --topic")
    func badTopicSpec() throws {
        #expect(throws: (any Error).self) { _ = try BrokerProcess(arguments: ["--topic", "nocount"]) }
    }
}
