import Foundation
import Testing
@testable import Kafka

/// Runs a command with stdin, returns (status, stdout).
func run(_ path: String, _ args: [String], stdin: String = "", timeout: TimeInterval = 20) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let inPipe = Pipe(), outPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    inPipe.fileHandleForWriting.write(Data(stdin.utf8))
    try inPipe.fileHandleForWriting.close()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

let kcatPath = ["/usr/bin/kcat", "/usr/local/bin/kcat", "/usr/bin/kafkacat"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("kcat interoperability")
struct KcatInteropTests {
    @Test("kcat -L, -P and -C -e against odl broker, mixed with the Swift client",
          .enabled(if: kcatPath != nil, "kcat is not installed (make deps installs it)"), arguments: BrokerKind.forTests)
    func kcat(kind: BrokerKind) async throws {
        guard let kcat = kcatPath else { return }
        let broker = try BrokerProcess(arguments: ["--topic", "kc:2"], kind: kind)
        let b = broker.bootstrap
        try await onThread {
            let (s1, meta) = try run(kcat, ["-b", b, "-L", "-t", "kc"])
            #expect(s1 == 0)
            #expect(meta.contains("topic \"kc\" with 2 partitions"))

            let (s2, _) = try run(kcat, ["-b", b, "-P", "-t", "kc", "-p", "1", "-K", ":"], stdin: "k1:one\nk2:two\n")
            #expect(s2 == 0)
            // The Swift consumer reads kcat's messages.
            let consumer = try Consumer(ConsumerConfig(bootstrap: b))
            defer { consumer.close() }
            try consumer.assign([PartitionAssignment(topic: "kc", partition: 1, offset: .beginning)])
            let got = collect(consumer, count: 2)
            #expect(got.messages.map { String(decoding: $0.value, as: UTF8.self) } == ["one", "two"])
            #expect(got.messages.map { $0.key.map { String(decoding: $0, as: UTF8.self) } } == ["k1", "k2"])

            // kcat reads what the Swift producer wrote.
            let producer = try Producer(bootstrap: b)
            _ = try producer.sendSync(topic: "kc", partition: 1, key: Array("k3".utf8), value: Array("three".utf8),
                                      headers: [KafkaHeader("src", "swift")])
            producer.close()
            let (s3, out) = try run(kcat, ["-b", b, "-C", "-t", "kc", "-p", "1", "-o", "beginning", "-e",
                                           "-f", "%k=%s %h\\n"])
            #expect(s3 == 0)
            #expect(out.split(separator: "\n") == ["k1=one ", "k2=two ", "k3=three src=swift"])
        }
        #expect(broker.stop() == 0)
    }
}
