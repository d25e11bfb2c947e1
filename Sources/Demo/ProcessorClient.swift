import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to one `odl serve` over HTTP: predict (JSON), /readyz and /status.
struct ProcessorClient: Sendable {
    let name: String
    let baseURL: String
    private let session: URLSession

    init(name: String, baseURL: String) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 30
        config.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: config)
    }

    /// Scores a request; returns `probs` per item in `itemIds` order.
    func predict(body: Data, itemIds: [String]) async throws -> [Double] {
        guard let url = URL(string: baseURL + "/predict") else { throw DemoError("\(name): bad URL \(baseURL)") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw DemoError("\(name): predict answered HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let results = json["results"] as? [String: Any] else {
            throw DemoError("\(name): predict answer has no results: \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        let outputs = json["outputs"] as? [String] ?? ["probs"]
        let probsIndex = outputs.firstIndex(of: "probs") ?? 0
        return try itemIds.map { id in
            guard let r = results[id] as? [String: Any], let scores = r["scores"] as? [Any],
                  probsIndex < scores.count, let p = Self.number(scores[probsIndex]) else {
                throw DemoError("\(name): predict answer lacks a score for item \(id)")
            }
            return p
        }
    }

    /// HTTP status of GET /readyz (0 when unreachable).
    func readyStatus() async -> Int {
        guard let url = URL(string: baseURL + "/readyz"),
              let (_, response) = try? await session.data(from: url) else { return 0 }
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// Polls /readyz until 200.
    func waitReady(timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await readyStatus() == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoError("\(name) not ready within \(Int(timeout)) s (\(baseURL)/readyz)")
    }

    /// GET /status as a JSON object.
    func status() async throws -> [String: Any] {
        guard let url = URL(string: baseURL + "/status") else { throw DemoError("\(name): bad URL") }
        let (data, response) = try await session.data(from: url)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DemoError("\(name): /status did not answer a JSON object")
        }
        return json
    }

    static func number(_ any: Any?) -> Double? {
        switch any {
        case let d as Double: return d
        case let n as NSNumber: return n.doubleValue
        case let i as Int: return Double(i)
        case let s as String: return Double(s)
        default: return nil
        }
    }
}
