import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Scores one decoded predict request (the model side of the HTTP API).
public protocol PredictHandling: Sendable {
    func predict(_ request: PBRequest) async throws(PredictFailure) -> PBResponse
}

/// What the operations endpoints report.
public protocol OperationsReporting: Sendable {
    /// `/status` body (JSON).
    func statusJSON() -> [UInt8]
    /// `/readyz`: ready, or the reason why not.
    func readiness() -> (ready: Bool, reason: String)
}

/// HTTP settings of the predict API.
public struct HTTPSettings: Sendable {
    public var limits: ServeLimits
    /// Required `Authorization` value of predict calls; nil: open.
    public var token: String?
    /// Service name: when set, only `/api/predict/<name>` (and `/predict`) answer.
    public var serviceName: String?
    /// Require the token on `/status` and `/metrics` too (`/healthz`, `/readyz` stay open for probes).
    public var protectOps: Bool

    public init(limits: ServeLimits = .init(), token: String? = nil, serviceName: String? = nil, protectOps: Bool = false) {
        self.limits = limits
        self.token = token
        self.serviceName = serviceName
        self.protectOps = protectOps
    }
}

/// Routes the processor's endpoints: predict (protobuf / JSON, gzip, auth, limits) and operations.
public struct ProcessorResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let handler: any PredictHandling
    let operations: any OperationsReporting
    let settings: HTTPSettings
    let metrics: ProcessorMetrics
    private let inFlight = InFlightCounter()

    public init(handler: any PredictHandling, operations: any OperationsReporting, settings: HTTPSettings,
                metrics: ProcessorMetrics) {
        self.handler = handler
        self.operations = operations
        self.settings = settings
        self.metrics = metrics
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        switch (request.method, path) {
        case (.get, "/healthz"), (.head, "/healthz"):
            return text(.ok, "ok\n")
        case (.get, "/readyz"), (.head, "/readyz"):
            let r = operations.readiness()
            // Ready but with updates lost (start offset deleted by retention): say so here too.
            let warning = r.reason.range(of: "WARNING:").map { " " + r.reason[$0.lowerBound...] } ?? ""
            return text(r.ready ? .ok : .serviceUnavailable, (r.ready ? "ready" + warning : "not ready: \(r.reason)") + "\n")
        case (.get, "/status"):
            if let refused = refuseOps(request) { return refused }
            return bytes(.ok, operations.statusJSON(), contentType: "application/json")
        case (.get, "/metrics"):
            if let refused = refuseOps(request) { return refused }
            return bytes(.ok, metrics.render(), contentType: "text/plain; version=0.0.4")
        case (.post, "/predict"):
            return await predict(request)
        case (_, _) where path.hasPrefix("/api/predict/"):
            let name = path.dropFirst("/api/predict/".count)
            if let expected = settings.serviceName, name != expected {
                return text(.notFound, "no service named \"\(name)\" here (this is \"\(expected)\")\n")
            }
            guard request.method == .post else { return methodNotAllowed(request, allow: "POST") }
            return await predict(request)
        case (_, "/predict"):
            return methodNotAllowed(request, allow: "POST")
        case (_, "/healthz"), (_, "/readyz"):
            return methodNotAllowed(request, allow: "GET, HEAD")
        case (_, "/status"), (_, "/metrics"):
            return methodNotAllowed(request, allow: "GET")
        default:
            return text(.notFound, "no endpoint \(path)\n")
        }
    }

    /// 405 with the `Allow` header (RFC 9110).
    private func methodNotAllowed(_ request: Request, allow: String) -> Response {
        var response = text(.methodNotAllowed, "method \(request.method) not allowed on \(request.uri.path) (use \(allow))\n")
        response.headers[.allow] = allow
        return response
    }

    /// With `--protect-ops`, `/status` and `/metrics` need the predict token (plain or EAS-signed).
    private func refuseOps(_ request: Request) -> Response? {
        guard settings.protectOps, let token = settings.token else { return nil }
        guard let given = request.headers[.authorization] else { return text(.unauthorized, "missing Authorization header\n") }
        if case .rejected = EASAuth.verify(given, token: token, request: request) {
            return text(.unauthorized, "wrong Authorization token\n")
        }
        return nil
    }

    private func predict(_ request: Request) async -> Response {
        let start = ContinuousClock.now
        let response = await predictUnmetered(request)
        metrics.countRequest(status: response.status.code)
        metrics.requestLatency.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        return response
    }

    private func predictUnmetered(_ request: Request) async -> Response {
        var signedMD5: String?
        if let token = settings.token {
            let verdict = request.headers[.authorization].map { EASAuth.verify($0, token: token, request: request) } ?? .rejected
            switch verdict {
            case .rejected:
                return text(.unauthorized, request.headers[.authorization] == nil
                            ? "missing Authorization header\n" : "wrong Authorization token\n")
            case .accepted: break
            case .signedBody(let md5): signedMD5 = md5
            }
        }
        guard inFlight.enter(limit: settings.limits.maxConcurrentRequests) else {
            var headers = HTTPFields()
            headers[.retryAfter] = String(settings.limits.retryAfterSeconds)
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .serviceUnavailable, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: "too many concurrent requests (limit \(settings.limits.maxConcurrentRequests))\n")))
        }
        metrics.inFlight.record(inFlight.current)
        defer {
            inFlight.leave()
            metrics.inFlight.record(inFlight.current)
        }
        guard let format = PredictBodyFormat.from(contentType: request.headers[.contentType]) else {
            let failure = PredictFailure("Content-Type \(request.headers[.contentType] ?? "") is not supported (use application/x-protobuf, application/octet-stream or application/json)")
            return answer(PredictCodec.errorResponse(failure), format: .json, status: .badRequest, request: request)
        }
        do {
            let (raw, body) = try await readBody(request)
            // A signature covers the Content-MD5 header; the header must then describe this body.
            if let signedMD5, !EASAuth.contentMD5Matches(signedMD5, body: raw) {
                return text(.unauthorized, "Content-MD5 \(signedMD5) does not match the request body\n")
            }
            let decoded = try PredictCodec.decodeRequest(body, format: format)
            let response = try await handler.predict(decoded)
            metrics.itemsScored.increment(by: response.itemIds.count)
            return answer(response, format: format, status: .ok, request: request)
        } catch {
            return answer(PredictCodec.errorResponse(error), format: format, status: .init(code: error.httpStatus), request: request)
        }
    }

    /// The body as sent and gzip-inflated when sent with `Content-Encoding: gzip`, within the size limit.
    private func readBody(_ request: Request) async throws(PredictFailure) -> (raw: [UInt8], body: [UInt8]) {
        let limit = settings.limits.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw .tooLarge("request body of \(length) bytes exceeds the limit of \(limit) bytes (--max-body-bytes)")
        }
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw .tooLarge("request body exceeds the limit of \(limit) bytes (--max-body-bytes)")
        }
        let raw = buffer.readBytes(length: buffer.readableBytes) ?? []
        let encoding = request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces) ?? ""
        switch encoding {
        case "", "identity":
            return (raw, raw)
        case "gzip", "x-gzip":
            do {
                return (raw, try GzipCodec.decompress(raw, limit: limit))
            } catch {
                if case .tooLarge = error { throw .tooLarge("Content-Encoding gzip: \(error.description) (--max-body-bytes)") }
                throw PredictFailure("Content-Encoding gzip: \(error.description)")
            }
        default:
            throw PredictFailure("Content-Encoding \(encoding) is not supported (use gzip or none)")
        }
    }

    private func answer(_ message: PBResponse, format: PredictBodyFormat, status: HTTPResponse.Status,
                        request: Request) -> Response {
        var body = PredictCodec.encodeResponse(message, format: format)
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        if acceptsGzip(request) {
            body = GzipCodec.compress(body)
            headers[.contentEncoding] = "gzip"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func acceptsGzip(_ request: Request) -> Bool {
        guard let accept = request.headers[.acceptEncoding] else { return false }
        return accept.split(separator: ",").contains { part in
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard fields.first == "gzip" || fields.first == "x-gzip" else { return false }
            return !fields.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" }
        }
    }

    private func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        bytes(status, Array(message.utf8), contentType: "text/plain; charset=utf-8")
    }

    private func bytes(_ status: HTTPResponse.Status, _ body: [UInt8], contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Requests in flight, bounded.
final class InFlightCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Enter unless `limit` requests are already in; false means refused.
    func enter(limit: Int) -> Bool {
        let now = count.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        if now > limit {
            count.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            return false
        }
        return true
    }

    func leave() { count.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
    var current: Int { count.load(ordering: .relaxed) }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
