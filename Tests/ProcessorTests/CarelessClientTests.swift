import FG
import Foundation
import Inference
import Logging
@testable import Processor
import Synchronization
import Testing

/// What a careless client or a new user hits (issue 18): bad floats, slow and idle connections,
/// connection caps, status codes, protected operations endpoints, error wording, ignored features.
@Suite(.serialized) struct CarelessClientTests {
    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let jsonHeaders = ["Content-Type": "application/json"]
    static let good = #"{"item_ids": ["i1", "i2"], "user_features": {"user_id": {"string_feature": "u1"}}, "#
        + #""context_features": {"price": {"features": [{"float_feature": 3.5}, {"float_feature": 7}]}}}"#

    static func withPrice(_ value: String) -> String {
        #"{"item_ids": ["i1", "i2"], "user_features": {"user_id": {"string_feature": "u1"}}, "#
            + #""context_features": {"price": {"features": [{"float_feature": 3.5}, {"float_feature": \#(value)}]}}}"#
    }

    // Item 3.
    @Test func nonFiniteFloatFeaturesAreRejectedNamingTheField() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        for value in [#""NaN""#, #""Infinity""#, #""-Infinity""#] {
            let reply = try await server.post(body: Self.json(Self.withPrice(value)), headers: Self.jsonHeaders)
            #expect(reply.status == 400, "\(value): \(reply.status) \(reply.text)")
            let r = try PBResponse(jsonUTF8Bytes: reply.body)
            #expect(r.errorMsg.contains("context_features.price.features[1]"), "\(r.errorMsg)")
            #expect(r.errorMsg.contains("not a finite number"), "\(r.errorMsg)")
        }
        // "nan" as text to a raw (numeric) feature is refused too; as an id value it is just a string.
        let nanText = #"{"item_ids": ["i1", "i2"], "context_features": {"price": {"features": [{"float_feature": 3.5}, {"string_feature": "nan"}]}}}"#
        let text = try await server.post(body: Self.json(nanText), headers: Self.jsonHeaders)
        #expect(text.status == 400, "\(text.text)")
        #expect(try PBResponse(jsonUTF8Bytes: text.body).errorMsg.contains("string_feature \"nan\""))
        var category = PBContextFeatures()
        category.features = [PredictHTTPTests.feature(.stringFeature("NaN"))]
        var idValue = PredictHTTPTests.request()
        idValue.contextFeatures["category"] = category
        #expect(try await server.post(body: try idValue.serializedBytes() as [UInt8]).status == 200)
        // Protobuf bodies too.
        var request = PredictHTTPTests.request()
        request.userFeatures["price"] = PredictHTTPTests.feature(.floatFeature(.nan))
        let pb = try await server.post(body: try request.serializedBytes() as [UInt8])
        #expect(pb.status == 400)
        #expect(try PBResponse(serializedBytes: pb.body).errorMsg.contains("user_features.price"))
        #expect(try await server.post(body: Self.json(Self.good), headers: Self.jsonHeaders).status == 200)
        await server.stop()
    }

    @Test func nonFiniteFloatFeaturesCanCountAsMissing() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) { $0.nonFiniteFeatures = .missing }
        let nan = try await server.post(body: Self.json(Self.withPrice(#""NaN""#)), headers: Self.jsonHeaders)
        #expect(nan.status == 200, "\(nan.text)")
        // Same scores as leaving the second item's price out (an empty value list).
        let noPrice = #"{"item_ids": ["i1", "i2"], "user_features": {"user_id": {"string_feature": "u1"}}, "#
            + #""context_features": {"price": {"features": [{"float_feature": 3.5}, {}]}}}"#
        let missing = try await server.post(body: Self.json(noPrice), headers: Self.jsonHeaders)
        #expect(missing.status == 200, "\(missing.text)")
        let a = try PBResponse(jsonUTF8Bytes: nan.body), b = try PBResponse(jsonUTF8Bytes: missing.body)
        #expect(a.results["i2"]?.scores == b.results["i2"]?.scores)
        #expect(a.results["i2"]?.scores.isEmpty == false)
        await server.stop()
    }

    // Item 4: read timeout (a trickled request), idle timeout, connection cap.
    @Test func aTrickledRequestIsAnswered408AfterTheReadTimeout() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.readTimeout = 1
            $0.idleTimeout = 60
        }
        let connection = try RawConnection(port: server.port)
        let started = Date()
        #expect(connection.send("POST /api/predict/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
        // A header byte every 200 ms keeps the connection busy: no idle timeout can fire.
        var answer = (text: "", closed: false)
        for _ in 0..<20 {
            connection.send("X")
            answer = await connection.read(seconds: 0.2)
            if answer.closed || !answer.text.isEmpty { break }
        }
        if !answer.closed { answer = await connection.read(seconds: 3) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(answer.text.hasPrefix("HTTP/1.1 408"), "\(answer.text)")
        #expect(answer.text.contains("read timeout"))
        #expect(answer.closed)
        #expect(elapsed >= 0.9 && elapsed < 4, "closed after \(elapsed) s")
        let metrics = try await server.get("/metrics")
        #expect(metrics.text.contains("odl_http_read_timeouts_total 1"), "\(metrics.text)")
        // A normal request is not affected.
        #expect(try await server.post(body: Self.json(Self.good), headers: Self.jsonHeaders).status == 200)
        await server.stop()
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) { $0.idleTimeout = 1 }
        let connection = try RawConnection(port: server.port)
        let started = Date()
        let answer = await connection.read(seconds: 5)
        let elapsed = Date().timeIntervalSince(started)
        #expect(answer.closed, "still open after \(elapsed) s")
        #expect(elapsed >= 0.8 && elapsed < 4, "closed after \(elapsed) s")
        await server.stop()
    }

    @Test func connectionsBeyondTheCapWaitUntilOneCloses() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) { $0.maxConnections = 2 }
        var first: RawConnection? = try RawConnection(port: server.port)
        let second = try RawConnection(port: server.port)
        try await Task.sleep(for: .milliseconds(300))  // both accepted
        let third = try RawConnection(port: server.port)  // the kernel backlog takes it
        #expect(third.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        let waiting = await third.read(seconds: 1.5)
        #expect(waiting.text.isEmpty, "answered beyond the cap: \(waiting.text)")
        _ = first
        first = nil  // closes one connection: the third is accepted and answered
        let answered = await third.read(seconds: 20, until: "\r\n\r\n")  // a loaded machine may take a while
        #expect(answered.text.hasPrefix("HTTP/1.1 200"), "\(answered.text)")
        _ = second
        await server.stop()
    }

    // Item 5.
    @Test func theDefaultHostIsLoopbackAndAllInterfacesAreRecognised() {
        #expect(ServeOptions(model: "m").host == "127.0.0.1")
        #expect(ProcessorServer.listensOnAllInterfaces("0.0.0.0"))
        #expect(ProcessorServer.listensOnAllInterfaces("::"))
        #expect(!ProcessorServer.listensOnAllInterfaces("127.0.0.1"))
    }

    @Test func allInterfacesWithoutATokenIsWarned() {
        // Only checked as text: tests bind loopback addresses only.
        let warning = ProcessorServer.exposureWarning(host: "0.0.0.0", token: nil)
        #expect(warning?.contains("all interfaces") == true && warning?.contains("--token") == true)
        #expect(ProcessorServer.exposureWarning(host: "0.0.0.0", token: "t") == nil)
        #expect(ProcessorServer.exposureWarning(host: "127.0.0.1", token: nil) == nil)
    }

    // Item 6.
    @Test func oversizeIs413AndWrongMethodsAre405() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.limits = ServeLimits(maxBodyBytes: 100)
        }
        let big = try await server.post(body: [UInt8](repeating: 0x20, count: 500), headers: Self.jsonHeaders)
        #expect(big.status == 413, "\(big.status) \(big.text)")
        #expect(try PBResponse(jsonUTF8Bytes: big.body).errorMsg.contains("--max-body-bytes"))
        let gzipBomb = GzipCodec.compress([UInt8](repeating: 0x20, count: 5000))
        let inflated = try await server.post(body: gzipBomb, headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        #expect(inflated.status == 413, "\(inflated.status) \(inflated.text)")
        let get = try await HTTPClient.request(port: server.port, method: "GET", path: "/api/predict/rec")
        #expect(get.status == 405)
        #expect(get.headers["allow"] == "POST")
        let postStatus = try await HTTPClient.request(port: server.port, method: "POST", path: "/status")
        #expect(postStatus.status == 405)
        #expect(postStatus.headers["allow"] == "GET")
        #expect(try await HTTPClient.request(port: server.port, method: "GET", path: "/predict").status == 405)
        await server.stop()
    }

    // Item 7.
    @Test func protectOpsRequiresTheTokenOnStatusAndMetrics() async throws {
        let model = try TestModel()
        let open = try await ServerFixture(model: try model.loaded()) { $0.token = "secret" }
        #expect(try await open.get("/status").status == 200)
        #expect(try await open.get("/metrics").status == 200)
        await open.stop()
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.token = "secret"
            $0.protectOps = true
        }
        for path in ["/status", "/metrics"] {
            #expect(try await server.get(path).status == 401, "\(path)")
            let wrong = try await HTTPClient.request(port: server.port, method: "GET", path: path, headers: ["Authorization": "nope"])
            #expect(wrong.status == 401)
            let right = try await HTTPClient.request(port: server.port, method: "GET", path: path, headers: ["Authorization": "secret"])
            #expect(right.status == 200, "\(path): \(right.text)")
        }
        // Probes stay open.
        #expect(try await server.get("/healthz").status == 200)
        #expect(try await server.get("/readyz").status == 200)
        await server.stop()
    }

    // Item 8.
    @Test func statusShowsTheConnectionErrorWhileTheBrokerIsUnreachable() async throws {
        let model = try TestModel()
        let port = try Self.closedPort()
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.kafkaServer = "127.0.0.1:\(port)"
            $0.topic = "unreachable_updates"
        }
        let first = try await server.waitFor("a connection state", seconds: 5) { $0.updates.connection != nil }
        #expect(first.updates.connection?.contains("127.0.0.1:\(port)") == true, "\(first.updates.connection ?? "")")
        let failed = try await server.waitFor("the connection error", seconds: 30) { $0.updates.lastError != nil }
        #expect(failed.updates.lastError?.contains("127.0.0.1:\(port)") == true)
        #expect(failed.updates.partitions.isEmpty)
        let ready = try await server.get("/readyz")
        #expect(ready.status == 503)
        #expect(ready.text.contains("127.0.0.1:\(port)"), "\(ready.text)")
        #expect(failed.readiness.contains("127.0.0.1:\(port)"))
        await server.stop()
    }

    // Item 9.
    @Test func jsonErrorsNameWhatFailed() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        func message(_ body: String) async throws -> String {
            let reply = try await server.post(body: Self.json(body), headers: Self.jsonHeaders)
            #expect(reply.status == 400, "\(body): \(reply.text)")
            return try PBResponse(jsonUTF8Bytes: reply.body).errorMsg
        }
        let kind = try await message(#"{"item_ids": ["i1"], "user_features": {"user_id": {"double_feature": 1.5}}}"#)
        #expect(kind.contains("user_features.user_id") && kind.contains("double_feature"), "\(kind)")
        #expect(!kind.contains("not a JSON object"))
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let nested = try await message(#"{"item_ids": ["i1"], "user_features": {"a": {"string_feature": "#  + deep + "}}}")
        #expect(nested.contains("levels deep (the limit is 64)"), "\(nested)")
        #expect(!nested.contains("failure"))
        let array = try await message(#"["i1"]"#)
        #expect(array.contains("must be a JSON object") && array.contains("an array"), "\(array)")
        let top = try await message(#"{"item_ids": ["i1"], "double_feature": 1}"#)
        #expect(top.contains("unknown top-level field \"double_feature\""), "\(top)")
        let broken = try await message(#"{"item_ids": ["i1"], "user_features": {"#)
        #expect(broken.contains("not valid JSON") || broken.contains("truncated"), "\(broken)")
        await server.stop()
    }

    // Item 14.
    @Test func debugAnswersListTheIgnoredRequestFeatures() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        var request = PredictHTTPTests.request(debugLevel: 2)
        request.userFeatures["shoe_size"] = PredictHTTPTests.feature(.intFeature(44))
        var colour = PBContextFeatures()
        colour.features = [PredictHTTPTests.feature(.stringFeature("red"))]
        request.contextFeatures["colour"] = colour
        let reply = try await server.post(body: try request.serializedBytes() as [UInt8])
        #expect(reply.status == 200)
        let r = try PBResponse(serializedBytes: reply.body)
        #expect(r.rawFeatures[ModelScorer.ignoredFeaturesKey] == "colour,shoe_size")
        // Without debug_level the answer is unchanged.
        request.debugLevel = 0
        let plain = try PBResponse(serializedBytes: try await server.post(body: try request.serializedBytes() as [UInt8]).body)
        #expect(plain.rawFeatures.isEmpty)
        // Every request feature the fg.json reads is known.
        let used = try PBResponse(serializedBytes: try await server.post(body: try PredictHTTPTests.request(debugLevel: 1).serializedBytes() as [UInt8]).body)
        #expect(used.rawFeatures[ModelScorer.ignoredFeaturesKey] == nil, "\(used.rawFeatures)")
        await server.stop()
    }

    // Item 13: the load log's `seconds` field is a plain number; the stop line is logged once.
    @Test func logFieldsAndTheStopLine() async throws {
        #expect(ProcessorServer.seconds(.milliseconds(50)) == "0.050")
        #expect(ProcessorServer.seconds(.seconds(2)) == "2.000")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odl-stopline-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try TestModel()
        let logs = CapturedLogs()
        let server = try await ServerFixture(model: try model.loaded(), logger: logs.logger) {
            $0.noUpdates = false
            $0.incrSaveDir = dir
        }
        try await Task.sleep(for: .milliseconds(200))
        await server.stop()
        let stops = logs.lines.filter { $0.message == "update stream stopped" }
        #expect(stops.count == 1, "\(logs.lines.map(\.message))")
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, len) == 0 else { return -1 }
                return getsockname(fd, p, &len)
            }
        }
        guard rc == 0 else { throw HTTPClient.Failure(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// Log lines captured in memory (a LogHandler the test reads back).
final class CapturedLogs: Sendable {
    struct Line: Sendable, CustomStringConvertible {
        var level: Logger.Level
        var message: String
        var description: String { "\(level): \(message)" }
    }
    private let store = Mutex<[Line]>([])

    var lines: [Line] { store.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "test.captured") { _ in Handler(logs: self) }
        logger.logLevel = .info
        return logger
    }

    fileprivate func append(_ line: Line) { store.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            logs.append(Line(level: event.level, message: event.message.description))
        }
    }
}
