import Foundation
import Synchronization
import Testing
@testable import Kafka

/// Errors of the test harness itself.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

/// The broker of one test: an `odl broker` child process (the built binary at
/// <package root>/.build/debug/odl; `kind` .embedded) or a `RealBroker` (`kind` .real).
final class BrokerProcess: Sendable {
    let kind: BrokerKind
    let bootstrap: String
    private let odl: (process: Process, output: LineCollector)?
    let real: RealBroker?

    static var binaryPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/odl").path
    }

    /// Starts the broker and waits until it is ready. For the real broker, `arguments` may only
    /// hold `--topic NAME:PARTITIONS` (created through CreateTopics with EasyRec's max.message.bytes
    /// and no time retention; auto-created topics get the broker's defaults: 1 MiB, 1 partition and
    /// 7-day retention, which deletes messages with historic timestamps within a second).
    init(arguments: [String] = [], kind: BrokerKind = .embedded) throws {
        self.kind = kind
        try BrokerKind.checkSelection()
        if kind == .real {
            // The tests stamp messages with fixed historic times; the embedded broker has no retention.
            let config = RealBroker.noTimeRetention.merging(["max.message.bytes": "1073741824"]) { a, _ in a }
            let broker = try RealBroker(topicSpecs: try Self.topicArguments(arguments), topicConfig: config)
            real = broker
            odl = nil
            bootstrap = broker.bootstrap
            return
        }
        real = nil
        let path = Self.binaryPath
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError(description: "odl binary missing at \(path): build it first (`swift build --product odl`, or `make test`)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["broker"] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let output = LineCollector(pipe.fileHandleForReading)
        odl = (p, output)
        guard let line = output.waitFor(prefix: "bootstrap: ", timeout: 10) else {
            p.terminate()
            throw HarnessError(description: "odl broker printed no bootstrap line within 10 s; output: \(output.lines)")
        }
        bootstrap = String(line.dropFirst("bootstrap: ".count))
    }

    /// Each `--topic NAME:PARTITIONS` as `NAME:PARTITIONS`; any other argument is an error.
    private static func topicArguments(_ arguments: [String]) throws -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            guard arguments[i] == "--topic", i + 1 < arguments.count else {
                throw HarnessError(description: "real broker: unsupported broker argument \(arguments[i...].prefix(2))")
            }
            out.append(arguments[i + 1])
            i += 2
        }
        return out
    }

    /// Waits for an output line starting with `prefix` (odl broker only).
    func waitFor(_ prefix: String, timeout: TimeInterval = 5) -> String? {
        odl?.output.waitFor(prefix: prefix, timeout: timeout)
    }

    /// Sends `sig` to the odl broker (the real broker is controlled through `real`).
    func signal(_ sig: Int32) {
        if let odl { kill(odl.process.processIdentifier, sig) }
    }

    /// Stops the broker and returns the exit status (0 for a real broker that was stopped).
    @discardableResult
    func stop() -> Int32 {
        if let real {
            real.close()
            return 0
        }
        guard let process = odl?.process else { return 0 }
        if process.isRunning { signal(SIGTERM) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -9
        }
        return process.terminationStatus
    }

    deinit {
        if let process = odl?.process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Reads a pipe's lines on its own thread.
final class LineCollector: Sendable {
    private final class State: Sendable {
        let m = Mutex<(lines: [String], partial: String, eof: Bool)>(([], "", false))
        func withLock<T>(_ body: (inout (lines: [String], partial: String, eof: Bool)) -> T) -> T { m.withLock { body(&$0) } }
    }
    private let state = State()

    init(_ handle: FileHandle) {
        let state = self.state
        let thread = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty {
                    state.withLock { $0.eof = true }
                    return
                }
                state.withLock { s in
                    s.partial += String(decoding: data, as: UTF8.self)
                    while let nl = s.partial.firstIndex(of: "\n") {
                        s.lines.append(String(s.partial[..<nl]))
                        s.partial = String(s.partial[s.partial.index(after: nl)...])
                    }
                }
            }
        }
        thread.start()
    }

    var lines: [String] { state.withLock { $0.lines } }

    func waitFor(prefix: String, timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let (found, eof) = state.withLock { s in (s.lines.first { $0.hasPrefix(prefix) }, s.eof) }
            if let found { return found }
            if eof { return nil }
            usleep(5_000)
        }
        return nil
    }
}

/// Polls until `count` messages arrived (or `timeout`); returns messages and the other events.
func collect(_ consumer: Consumer, count: Int, timeout: Duration = .seconds(10)) -> (messages: [KafkaMessage], events: [ConsumerEvent]) {
    var messages: [KafkaMessage] = []
    var events: [ConsumerEvent] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count && ContinuousClock.now < deadline {
        for e in consumer.poll(maxMessages: 100, timeout: .milliseconds(100)) {
            if let m = e.message { messages.append(m) } else { events.append(e) }
        }
    }
    return (messages, events)
}

/// A topic name no other test uses.
func uniqueTopic(_ base: String) -> String {
    "\(base)-\(UUID().uuidString.prefix(8))"
}

/// Runs blocking code off the cooperative pool (the consumer's poll blocks).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { cont in
        let t = Thread {
            do { cont.resume(returning: try body()) } catch { cont.resume(throwing: error) }
        }
        t.start()
    }
}
