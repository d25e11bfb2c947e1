import Foundation
import Inference
import Kafka
@testable import Processor
import XCTest

/// The fixture's update messages sent over Kafka by EasyRec's client (kafka-python, A's
/// scripts/easyrec-fixture/send_updates.py, keys `dense_update_<step>` / `sparse_update_<step>`)
/// to a broker this test starts, consumed and applied: same predictions as TF's final export.
final class EasyRecKafkaTests: XCTestCase {
    static let python = NSHomeDirectory() + "/.cache/odl/kafka-python-venv/bin/python"
    static let sender = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/easyrec-fixture/send_updates.py").path

    func testKafkaUpdatesReachTheFinalExport() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            return XCTFail("kafka-python venv missing at \(Self.python): run `make kafka-python`")
        }
        let broker = try EmbeddedBroker()
        try broker.createTopic(name: "easyrec_updates", partitions: 1)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.sender, "--bootstrap", broker.bootstrap, "--topic", "easyrec_updates", "--dir", EasyRecFixture.updates]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, printed)
        let sent = printed.split(separator: "\n").filter { $0.hasPrefix("sent ") }.count
        XCTAssertGreaterThan(sent, 0, printed)

        let model = try LoadedModel.load(path: EasyRecFixture.baseExport, embeddingDir: nil, limits: ServeLimits())
        let consumer = try Consumer(ConsumerConfig(bootstrap: broker.bootstrap))
        defer { consumer.close() }
        try consumer.assign([PartitionAssignment(topic: "easyrec_updates", partition: 0, offset: .beginning)])
        var keys: [String] = []
        let deadline = Date().addingTimeInterval(30)
        while keys.count < sent && Date() < deadline {
            for event in consumer.poll(maxMessages: 100, timeout: .milliseconds(200)) {
                guard let m = event.message else { continue }
                let message = try UpdateCodec.decode(m.value, spec: model.store.spec)
                _ = try model.store.apply(message)
                keys.append(String(decoding: m.key ?? [], as: UTF8.self))
            }
        }
        XCTAssertEqual(keys.count, sent)
        XCTAssertTrue(keys.allSatisfy { $0.hasPrefix("dense_update_") || $0.hasPrefix("sparse_update_") }, "\(keys)")
        let parity = try TFParity()
        let diff = TFParity.maxDiff(try parity.odlProbs(try TFParity.scorer(model)), try XCTUnwrap(parity.tfProbs("final_export")))
        print("easyrec parity: base + Kafka updates vs final_export max |odl - tf| probs = \(diff)")
        XCTAssertLessThan(diff, 1e-5)
    }
}
