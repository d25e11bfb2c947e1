import Foundation
import Synchronization
import Testing
@testable import Kafka

/// Errors of the test harness itself.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

/// An `odl broker` child process (the built binary at <package root>/.build/debug/odl).
final class BrokerProcess: Sendable {
    let process: Process
    let bootstrap: String
    private let output: LineCollector

    static var binaryPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/odl").path
    }

    /// Starts the broker and waits for its "bootstrap: ..." line.
    init(arguments: [String] = []) throws {
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
        process = p
        output = LineCollector(pipe.fileHandleForReading)
        guard let line = output.waitFor(prefix: "bootstrap: ", timeout: 10) else {
            p.terminate()
            throw HarnessError(description: "odl broker printed no bootstrap line within 10 s; output: \(output.lines)")
        }
        bootstrap = String(line.dropFirst("bootstrap: ".count))
    }

    /// Waits for an output line starting with `prefix`.
    func waitFor(_ prefix: String, timeout: TimeInterval = 5) -> String? {
        output.waitFor(prefix: prefix, timeout: timeout)
    }

    func signal(_ sig: Int32) {
        kill(process.processIdentifier, sig)
    }

    /// SIGTERM, wait, and return the exit status.
    @discardableResult
    func stop() -> Int32 {
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
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
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
