import Foundation
import Logging
@testable import Processor
import Synchronization

/// A processor running in-process on an ephemeral port until `stop()`.
final class ServerFixture: Sendable {
    let server: ProcessorServer
    let port: Int
    private let task: Task<Void, any Error>

    init(model: LoadedModel, logger given: Logger? = nil, configure: (inout ServeOptions) -> Void = { _ in }) async throws {
        var options = ServeOptions(model: model.versionDir)
        options.host = "127.0.0.1"
        options.port = 0
        options.noUpdates = true
        configure(&options)
        var logger = given ?? Logger(label: "test.processor")
        if given == nil { logger.logLevel = .warning }
        let server = try ProcessorServer(model: model, options: options, logger: logger)
        self.server = server
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        task = Task { try await server.run { _, port in continuation.yield(port) } }
        var bound = 0
        for await p in stream { bound = p; break }
        port = bound
    }

    /// Graceful shutdown (as SIGTERM), then wait for `run` to return.
    func stop() async {
        await server.shutdown()
        _ = try? await task.value
    }

    func post(_ path: String = "/api/predict/test", body: [UInt8], headers: [String: String] = [:]) async throws -> HTTPReply {
        try await HTTPClient.request(port: port, path: path, headers: headers, body: body)
    }

    func get(_ path: String) async throws -> HTTPReply {
        try await HTTPClient.request(port: port, method: "GET", path: path)
    }

    func status() async throws -> ProcessorStatus {
        let reply = try await get("/status")
        return try JSONDecoder().decode(ProcessorStatus.self, from: Data(reply.body))
    }

    /// Poll `/status` until `condition` holds (or fail after `seconds`).
    func waitFor(_ what: String, seconds: Double = 20, _ condition: (ProcessorStatus) -> Bool) async throws -> ProcessorStatus {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try await status()
        while !condition(last) {
            if Date() > deadline {
                throw HTTPClient.Failure(description: "timed out waiting for \(what); last status: \(String(decoding: try JSONEncoder().encode(last), as: UTF8.self))")
            }
            try await Task.sleep(for: .milliseconds(50))
            last = try await status()
        }
        return last
    }
}
