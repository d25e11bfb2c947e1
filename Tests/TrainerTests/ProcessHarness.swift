import Foundation
import Kafka
import Synchronization

/// Errors of the process test harness.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

/// Path of the built `odl` binary (<package root>/.build/debug/odl).
let odlBinary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug/odl").path

/// A child `odl` process with its output in a log file.
final class OdlProcess: Sendable {
    let process: Process
    let logPath: String

    init(_ arguments: [String], log: String) throws {
        guard FileManager.default.isExecutableFile(atPath: odlBinary) else {
            throw HarnessError(description: "odl binary missing at \(odlBinary): run `swift build` first")
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: odlBinary)
        p.arguments = arguments
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        process = p
        logPath = log
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for exit; nil on timeout.
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// An `odl broker` child process.
final class BrokerProcess: Sendable {
    let child: OdlProcess?
    let real: RealBroker?
    let bootstrap: String

    /// `odl broker` (`kind` .embedded) or a real broker (.real) with `topics` (`NAME:PARTITIONS`).
    init(topics: [String], dir: String, kind: BrokerKind = .embedded) throws {
        try BrokerKind.checkSelection()
        if kind == .real {
            // No time retention: tests stamp samples with historic times (the embedded broker keeps everything).
            let b = try RealBroker(topicSpecs: topics, topicConfig: RealBroker.noTimeRetention)
            real = b
            child = nil
            bootstrap = b.bootstrap
            return
        }
        real = nil
        let file = dir + "/bootstrap"
        let c = try OdlProcess(["broker", "--bootstrap-file", file] + topics.flatMap { ["--topic", $0] }, log: dir + "/broker.log")
        child = c
        let deadline = Date().addingTimeInterval(10)
        var address = ""
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), !text.isEmpty {
                address = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            usleep(20_000)
        }
        guard !address.isEmpty else { throw HarnessError(description: "broker did not start: \(c.output)") }
        bootstrap = address
    }

    func stop() {
        if let child {
            child.signal(SIGTERM)
            _ = child.wait(timeout: 10)
        }
        real?.close()
    }
}

/// Produces `lines` to `topic`: line i to partition `partition(i)` with key `s<i>` and timestamp `timestamp(i)`.
func produceSamples(bootstrap: String, topic: String, lines: [String], partition: (Int) -> Int32,
                    timestamp: (Int) -> Int64? = { _ in nil }) throws {
    let producer = try Producer(bootstrap: bootstrap)
    defer { producer.close() }
    for (i, l) in lines.enumerated() {
        _ = try producer.sendSync(topic: topic, partition: partition(i), key: Array("s\(i)".utf8), value: Array(l.utf8),
                                  timestamp: timestamp(i))
    }
}

/// Reads every message of partition 0 of `topic` from offset 0 up to its end.
func readAll(bootstrap: String, topic: String, partition: Int32 = 0) throws -> [KafkaMessage] {
    let consumer = try Consumer(ConsumerConfig(bootstrap: bootstrap))
    defer { consumer.close() }
    let end = try consumer.watermarks(topic: topic, partition: partition).high
    guard end > 0 else { return [] }
    try consumer.assign([PartitionAssignment(topic: topic, partition: partition, offset: .offset(0))])
    var out: [KafkaMessage] = []
    let deadline = Date().addingTimeInterval(20)
    while (out.last?.offset ?? -1) < end - 1 && Date() < deadline {
        for e in consumer.poll(maxMessages: 500, timeout: .milliseconds(100)) {
            if let m = e.message { out.append(m) }
        }
    }
    return out
}

/// Parsed sample log lines (partition, offset, key) written by `odl train --sample-log`.
func sampleLog(_ path: String) -> [(partition: Int32, offset: Int64, key: String)] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count == 3, let p = Int32(f[0]), let o = Int64(f[1]) else { return nil }
        return (p, o, String(f[2]))
    }
}

/// Waits until `condition` holds (polling), up to `timeout` seconds.
func waitUntil(_ timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
