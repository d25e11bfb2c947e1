import Digest
import FG
import Foundation
import Inference
@testable import Processor
import SwiftProtobuf
import Testing

@Suite(.serialized) struct PredictHTTPTests {
    static let items = ["i1", "i2", "i3"]

    /// The request used throughout, as protobuf and as the FG request the model sees.
    static func request(debugLevel: Int32 = 0) -> PBRequest {
        var r = PBRequest()
        r.debugLevel = debugLevel
        r.userFeatures["user_id"] = feature(.stringFeature("u42"))
        r.userFeatures["tags"] = feature(.stringFeature("a\u{1d}b\u{1d}c"))
        r.itemIds = items
        var category = PBContextFeatures()
        category.features = ["books", "toys", "books"].map { feature(.stringFeature($0)) }
        r.contextFeatures["category"] = category
        var price = PBContextFeatures()
        price.features = [0.5, 7, 120].map { feature(.floatFeature($0)) }
        r.contextFeatures["price"] = price
        return r
    }

    static func fgRequest() -> FGRequest {
        FGRequest(userFeatures: ["user_id": .string("u42"), "tags": .string("a\u{1d}b\u{1d}c")], itemIds: items,
                  itemFeatures: ["category": ["books", "toys", "books"].map { .string($0) },
                                 "price": [0.5, 7, 120].map { .float(Double(Float($0))) }])
    }

    static func feature(_ v: PBFeature.OneOf_Value) -> PBFeature {
        var f = PBFeature()
        f.value = v
        return f
    }

    static func scores(_ r: PBResponse) -> [[Double]] { items.map { r.results[$0]?.scores ?? [] } }

    @Test func protobufPredictMatchesTheModel() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        defer { Task { await server.stop() } }
        let reply = try await server.post(body: try Self.request().serializedBytes() as [UInt8],
                                          headers: ["Content-Type": "application/x-protobuf"])
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/x-protobuf")
        let response = try PBResponse(serializedBytes: reply.body)
        let expected = try model.expected(Self.fgRequest())
        #expect(response.statusCode == .ok)
        #expect(response.outputs == ["probs", "logits"])
        #expect(response.itemIds == Self.items)
        for (i, id) in Self.items.enumerated() {
            #expect(response.results[id]?.scores == [Double(expected.probs[i]), Double(expected.logits[i])])
        }
        // Different items get different scores (the features reach the model).
        #expect(Set(expected.probs).count == 3)
        // `/predict` and no Content-Type (EAS SDK without token) answer the same.
        let plain = try await server.post("/predict", body: try Self.request().serializedBytes() as [UInt8])
        #expect(plain.status == 200)
        #expect(plain.headers["content-type"] == "application/octet-stream")
        #expect(Self.scores(try PBResponse(serializedBytes: plain.body)) == Self.scores(response))
        await server.stop()
    }

    @Test func jsonAndGzip() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        let binary = try PBResponse(serializedBytes: try await server.post(body: try Self.request().serializedBytes() as [UInt8]).body)
        let json = """
        {"user_features": {"user_id": {"string_feature": "u42"}, "tags": {"string_feature": "a\\u001db\\u001dc"}},
         "item_ids": ["i1", "i2", "i3"],
         "context_features": {"category": {"features": [{"string_feature": "books"}, {"string_feature": "toys"}, {"string_feature": "books"}]},
                              "price": {"features": [{"float_feature": 0.5}, {"float_feature": 7}, {"float_feature": 120}]}}}
        """
        let reply = try await server.post(body: Array(json.utf8), headers: ["Content-Type": "application/json"])
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.headers["content-type"] == "application/json")
        let decoded = try PBResponse(jsonUTF8Bytes: reply.body)
        #expect(Self.scores(decoded) == Self.scores(binary))
        #expect(reply.text.contains("\"item_ids\""))

        // gzip request body and gzip answer.
        let zipped = GzipCodec.compress(try Self.request().serializedBytes() as [UInt8])
        let gz = try await server.post(body: zipped, headers: ["Content-Encoding": "gzip", "Accept-Encoding": "gzip, deflate"])
        #expect(gz.status == 200)
        #expect(gz.headers["content-encoding"] == "gzip")
        let inflated = try GzipCodec.decompress(gz.body, limit: 1 << 20)
        #expect(Self.scores(try PBResponse(serializedBytes: inflated)) == Self.scores(binary))
        // A corrupt gzip body is a 400 naming the encoding.
        let bad = try await server.post(body: Array(zipped.prefix(10)), headers: ["Content-Encoding": "gzip"])
        #expect(bad.status == 400)
        #expect(try PBResponse(serializedBytes: bad.body).errorMsg.contains("gzip"))
        await server.stop()
    }

    @Test func debugLevelsAndOutputs() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) { $0.outputs = [.logits] }
        let expected = try model.expected(Self.fgRequest())
        let level0 = try PBResponse(serializedBytes: try await server.post(body: try Self.request().serializedBytes() as [UInt8]).body)
        #expect(level0.outputs == ["logits"])
        #expect(level0.results["i2"]?.scores == [Double(expected.logits[1])])
        #expect(level0.generateFeatures.isEmpty)

        let level1 = try PBResponse(serializedBytes: try await server.post(body: try Self.request(debugLevel: 1).serializedBytes() as [UInt8]).body)
        #expect(level1.results.isEmpty)
        #expect(level1.generateFeatures.count == 3)
        let fg1 = try #require(level1.generateFeatures["i2"])
        #expect(fg1.contains("\"category\":[\"category_toys\"]"), "\(fg1)")

        let level2 = try PBResponse(serializedBytes: try await server.post(body: try Self.request(debugLevel: 2).serializedBytes() as [UInt8]).body)
        #expect(level2.results["i2"]?.scores == [Double(expected.logits[1])])
        #expect(level2.generateFeatures["i2"] == fg1)

        let level3 = try PBResponse(serializedBytes: try await server.post(body: try Self.request(debugLevel: 3).serializedBytes() as [UInt8]).body)
        var batch = model.plan.makeBatch()
        try model.plan.evaluate(Self.fgRequest(), into: &batch)
        #expect(level3.generateFeatures["i2"] == batch.renderSample(item: 1))
        #expect(level3.generateFeatures["i2"]?.contains("\u{02}") == true)
        await server.stop()
    }

    @Test func badInputIsA400NamingTheField() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.limits = ServeLimits(maxBodyBytes: 4096, maxItems: 5, maxValuesPerFeature: 10)
        }
        func failure(_ reply: HTTPReply, json: Bool = false) throws -> PBResponse {
            #expect(reply.status == 400, "\(reply.status) \(reply.text)")
            return json ? try PBResponse(jsonUTF8Bytes: reply.body) : try PBResponse(serializedBytes: reply.body)
        }
        let good = try Self.request().serializedBytes() as [UInt8]

        let truncated = try failure(try await server.post(body: Array(good.prefix(good.count - 3))))
        #expect(truncated.statusCode == .exception)
        #expect(truncated.errorMsg.contains("PBRequest"))

        let wrongType = try await server.post(body: good, headers: ["Content-Type": "text/plain"])
        let wrong = try failure(wrongType, json: true)
        #expect(wrong.errorMsg.contains("Content-Type text/plain"))

        var empty = Self.request()
        empty.itemIds = []
        let noItems = try failure(try await server.post(body: try empty.serializedBytes() as [UInt8]))
        #expect(noItems.statusCode == .inputEmpty)
        #expect(noItems.errorMsg.contains("item_ids"))

        var many = Self.request()
        many.itemIds = (0..<6).map { "x\($0)" }
        many.contextFeatures = [:]
        let tooMany = try failure(try await server.post(body: try many.serializedBytes() as [UInt8]))
        #expect(tooMany.errorMsg.contains("item_ids") && tooMany.errorMsg.contains("limit of 5"))

        var mismatched = Self.request()
        mismatched.contextFeatures["price"]?.features.removeLast()
        let mis = try failure(try await server.post(body: try mismatched.serializedBytes() as [UInt8]))
        #expect(mis.errorMsg.contains("context_features.price"), "\(mis.errorMsg)")

        var values = Self.request()
        values.userFeatures["tags"] = Self.feature(.stringFeature((0..<11).map(String.init).joined(separator: "\u{1d}")))
        let tooManyValues = try failure(try await server.post(body: try values.serializedBytes() as [UInt8]))
        #expect(tooManyValues.errorMsg.contains("user_features.tags"), "\(tooManyValues.errorMsg)")

        let oversize = try await server.post(body: [UInt8](repeating: 0x20, count: 5000), headers: ["Content-Type": "application/json"])
        #expect(oversize.status == 413, "\(oversize.status) \(oversize.text)")
        let over = try PBResponse(jsonUTF8Bytes: oversize.body)
        #expect(over.errorMsg.contains("limit of 4096"))

        let badJSON = #"{"item_ids": ["i1"], "user_features": {"user_id": {"float_feature": "abc"}}}"#
        let typeError = try failure(try await server.post(body: Array(badJSON.utf8), headers: ["Content-Type": "application/json"]), json: true)
        #expect(typeError.statusCode == .exception)
        #expect(typeError.errorMsg.contains("user_features.user_id"), "\(typeError.errorMsg)")

        let unknownJSON = #"{"item_ids": ["i1"], "colour": 3}"#
        let unknown = try failure(try await server.post(body: Array(unknownJSON.utf8), headers: ["Content-Type": "application/json"]), json: true)
        #expect(unknown.errorMsg.contains("colour"), "\(unknown.errorMsg)")

        // Unknown features are ignored: same scores as without them.
        var extra = Self.request()
        extra.userFeatures["shoe_size"] = Self.feature(.intFeature(44))
        let withExtra = try PBResponse(serializedBytes: try await server.post(body: try extra.serializedBytes() as [UInt8]).body)
        let plain = try PBResponse(serializedBytes: try await server.post(body: good).body)
        #expect(Self.scores(withExtra) == Self.scores(plain))
        // A missing feature takes its default (not an error).
        var missing = Self.request()
        missing.contextFeatures["price"] = nil
        let partial = try await server.post(body: try missing.serializedBytes() as [UInt8])
        #expect(partial.status == 200)

        // The server still answers.
        #expect(try await server.get("/healthz").status == 200)
        #expect(try await server.post(body: good).status == 200)
        await server.stop()
    }

    @Test func mutatedBodiesNeverBreakTheServer() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        var rng = SplitMix(99)
        let good: [UInt8] = try Self.request(debugLevel: 2).serializedBytes()
        let json: [UInt8] = try Self.request().jsonUTF8Bytes()
        var statuses: [Int: Int] = [:]
        for round in 0..<160 {
            var body = round % 2 == 0 ? good : json
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(body.count))
                switch rng.next() % 3 {
                case 0: body[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: body.remove(at: i)
                default: body.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                }
            }
            let reply = try await server.post(body: body, headers: ["Content-Type": round % 2 == 0 ? "application/x-protobuf" : "application/json"])
            statuses[reply.status, default: 0] += 1
            #expect(reply.status == 200 || reply.status == 400, "round \(round): \(reply.status)")
            if reply.status == 400 {
                let r = round % 2 == 0 ? try PBResponse(serializedBytes: reply.body) : try PBResponse(jsonUTF8Bytes: reply.body)
                #expect(!r.errorMsg.isEmpty && !r.errorMsg.contains("\n"))
            }
        }
        #expect((statuses[400] ?? 0) > 10)
        #expect(try await server.post(body: good).status == 200)
        await server.stop()
    }

    @Test func tokenAuth() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) { $0.token = "s3cret" }
        let body = try Self.request().serializedBytes() as [UInt8]
        #expect(try await server.post(body: body).status == 401)
        #expect(try await server.post(body: body, headers: ["Authorization": "nope"]).status == 401)
        #expect(try await server.post(body: body, headers: ["Authorization": "s3cret"]).status == 200)
        // The EAS SDK signature (HMAC-SHA1 of method, MD5, type, date, path with the token); the
        // signed Content-MD5 (hex as the Python SDK writes it, or base64) must be the body's.
        let date = "Sun, 29 Nov 2026 06:00:00 GMT"
        func signedPost(md5: String, body: [UInt8]) async throws -> Int {
            let canonical = "POST\n\(md5)\napplication/octet-stream\n\(date)\n/api/predict/test"
            let signature = Data(HMACSHA1.mac(key: Array("s3cret".utf8), message: Array(canonical.utf8))).base64EncodedString()
            return try await server.post(body: body, headers: [
                "Authorization": "EAS \(signature)", "Content-MD5": md5, "Date": date,
                "Content-Type": "application/octet-stream",
            ]).status
        }
        let digest = MD5.hash(body)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        #expect(try await signedPost(md5: hex, body: body) == 200)
        #expect(try await signedPost(md5: hex.uppercased(), body: body) == 200)
        #expect(try await signedPost(md5: Data(digest).base64EncodedString(), body: body) == 200)
        // A valid signature over another body's MD5: the body was changed on the way.
        var tampered = body
        tampered[tampered.count - 1] ^= 1
        #expect(try await signedPost(md5: hex, body: tampered) == 401)
        #expect(try await signedPost(md5: "abc123", body: body) == 401)
        #expect(try await server.get("/healthz").status == 200)
        #expect(try await server.get("/status").status == 200)
        await server.stop()
    }

    @Test func concurrencyLimitAnswers503() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded()) {
            $0.limits = ServeLimits(maxConcurrentRequests: 0, retryAfterSeconds: 2)
        }
        let reply = try await server.post(body: try Self.request().serializedBytes() as [UInt8])
        #expect(reply.status == 503)
        #expect(reply.headers["retry-after"] == "2")
        await server.stop()
    }

    @Test func largeBatchesOnTheWorkerPoolMatchInline() async throws {
        let model = try TestModel()
        let inline = try await ServerFixture(model: try model.loaded())
        let pooled = try await ServerFixture(model: try model.loaded()) { $0.offloadItems = 1 }
        let body = try Self.request().serializedBytes() as [UInt8]
        let a = try PBResponse(serializedBytes: try await inline.post(body: body).body)
        let b = try PBResponse(serializedBytes: try await pooled.post(body: body).body)
        #expect(Self.scores(a) == Self.scores(b))
        #expect(!Self.scores(a)[0].isEmpty)
        await inline.stop()
        await pooled.stop()
    }

    @Test func itemTableFeedsItemFeatures() async throws {
        let model = try TestModel()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odl-items-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "item_id,category,price\ni1,books,0.5\ni2,toys,7\n\"i3\",books,120\n".write(toFile: dir + "/items.csv", atomically: true, encoding: .utf8)
        try """
        {"item_id": "i1", "category": "books", "price": 0.5}
        {"item_id": "i2", "category": "toys", "price": 7}
        {"item_id": "i3", "category": "books", "price": 120}
        """.write(toFile: dir + "/items.jsonl", atomically: true, encoding: .utf8)
        var bare = Self.request()
        bare.contextFeatures = [:]
        let withContext = try Self.request().serializedBytes() as [UInt8]
        for file in ["items.csv", "items.jsonl"] {
            let server = try await ServerFixture(model: try model.loaded()) { $0.itemTable = dir + "/" + file }
            let fromTable = try PBResponse(serializedBytes: try await server.post(body: try bare.serializedBytes() as [UInt8]).body)
            let fromRequest = try PBResponse(serializedBytes: try await server.post(body: withContext).body)
            // CSV cells are strings ("0.5") while the request sends floats: FG parses both alike.
            #expect(Self.scores(fromTable) == Self.scores(fromRequest), "\(file)")
            // Request context features win over the table.
            var override = bare
            var category = PBContextFeatures()
            category.features = [Self.feature(.stringFeature("garden"))]
            override.contextFeatures["category"] = category
            let overridden = try PBResponse(serializedBytes: try await server.post(body: try override.serializedBytes() as [UInt8]).body)
            #expect(Self.scores(overridden) != Self.scores(fromTable))
            await server.stop()
        }
    }

    @Test func operationsEndpoints() async throws {
        let model = try TestModel()
        let server = try await ServerFixture(model: try model.loaded())
        _ = try await server.post(body: try Self.request().serializedBytes() as [UInt8])
        #expect(try await server.get("/healthz").status == 200)
        let ready = try await server.get("/readyz")
        #expect(ready.status == 200, "\(ready.text)")
        let status = try await server.status()
        #expect(status.ready)
        #expect(status.model.version == "1700000000")
        #expect(status.model.checksum == String(server.server.model.store.checksum(), radix: 16))
        #expect(status.updates.mode == "none")
        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("odl_predict_requests_total{code=\"200\"} 1"), "\(metrics.text)")
        #expect(metrics.text.contains("odl_predict_items_total 3"))
        #expect(metrics.text.contains("odl_predict_latency_seconds_bucket"))
        #expect(try await server.get("/nope").status == 404)
        await server.stop()
    }
}
