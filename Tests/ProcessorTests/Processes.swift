import Foundation
import Kafka

/// Child processes of the tests (`odl broker`, `odl serve`), with their stdout lines.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is only started/stopped from the test's own task; `lines` is guarded by `lock`.
    let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = ""

    /// `<package root>/.build/debug/odl`; a clear failure when it has not been built.
    static func odlBinary() throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.appendingPathComponent(".build/debug/odl").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ProcessFailure(description: "\(path) is missing: build it first (`swift build --product odl`)")
        }
        return path
    }

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try Self.odlBinary())
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.partial += String(decoding: data, as: UTF8.self)
            while let nl = self.partial.firstIndex(of: "\n") {
                self.lines.append(String(self.partial[..<nl]))
                self.partial = String(self.partial[self.partial.index(after: nl)...])
            }
            self.lock.unlock()
        }
        try process.run()
    }

    /// The first stdout line starting with `prefix` (without it), waiting up to `seconds`.
    func waitForLine(prefix: String, seconds: Double = 30) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let found = lock.withLock { lines.first { $0.hasPrefix(prefix) } }
            if let found { return String(found.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
            if !process.isRunning { throw ProcessFailure(description: "\(process.arguments ?? []) exited with \(process.terminationStatus) before printing \(prefix)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure(description: "no line starting with \(prefix) within \(seconds) s")
    }

    func kill(signal: Int32 = SIGKILL) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }
}

struct ProcessFailure: Error, CustomStringConvertible { var description: String }

/// The test's broker: an `odl broker` process (`kind` .embedded) or a `RealBroker` (.real).
final class BrokerProcess: Sendable {
    let child: ChildProcess?
    let real: RealBroker?
    let bootstrap: String

    /// `topicConfig` applies to the real broker's topics only (the embedded broker ignores topic settings).
    init(topics: [String], kind: BrokerKind = .embedded, topicConfig: [String: String] = [:]) async throws {
        try BrokerKind.checkSelection()
        if kind == .real {
            let broker = try RealBroker(topicSpecs: topics, topicConfig: topicConfig)
            real = broker
            child = nil
            bootstrap = broker.bootstrap
            return
        }
        real = nil
        let c = try ChildProcess(["broker"] + topics.flatMap { ["--topic", $0] })
        child = c
        bootstrap = try await c.waitForLine(prefix: "bootstrap:")
    }

    func stop() {
        child?.kill(signal: SIGTERM)
        real?.close()
    }
}
