import Foundation
@testable import Processor
import SwiftProtobuf
import Testing

/// `odl serve --ceiling`, the benchmark's ceiling peer: the real HTTP stack answering a score of 0
/// per item, compared with the real server on the same model and requests.
@Suite(.serialized) struct CeilingPredictorTests {
    static func servers(token: String? = nil) async throws -> (real: ServerFixture, ceiling: ServerFixture) {
        let model = try TestModel()
        let limits = ServeLimits(maxBodyBytes: 4096, maxItems: 5, maxValuesPerFeature: 10)
        let real = try await ServerFixture(model: try model.loaded()) { $0.limits = limits; $0.token = token }
        let ceiling = try await ServerFixture(model: try model.loaded()) {
            $0.limits = limits
            $0.token = token
            $0.ceiling = true
        }
        return (real, ceiling)
    }

    @Test func answersOneZeroPerItemInTheRealShape() async throws {
        let (real, ceiling) = try await Self.servers()
        let body: [UInt8] = try PredictHTTPTests.request().serializedBytes()
        let headers = ["Content-Type": "application/x-protobuf"]
        let realReply = try await real.post(body: body, headers: headers)
        let ceilingReply = try await ceiling.post(body: body, headers: headers)
        #expect(realReply.status == 200 && ceilingReply.status == 200)
        #expect(ceilingReply.headers["content-type"] == "application/x-protobuf")
        let r = try PBResponse(serializedBytes: realReply.body)
        let c = try PBResponse(serializedBytes: ceilingReply.body)
        #expect(c.statusCode == .ok)
        #expect(c.outputs == r.outputs && c.outputs == ["probs", "logits"])
        #expect(c.itemIds == PredictHTTPTests.items)
        #expect(Set(c.results.keys) == Set(r.results.keys))
        for id in PredictHTTPTests.items {
            #expect(c.results[id]?.scores == [0, 0])
            #expect(r.results[id]?.scores.contains { $0 != 0 } == true)  // the real one did score
        }
        // Same bytes on the wire as the real answer (packed doubles: a zero takes 8 bytes too).
        #expect(ceilingReply.body.count == realReply.body.count)

        // JSON in, JSON out, same shape.
        let json: [UInt8] = try PredictHTTPTests.request().jsonUTF8Bytes()
        let cj = try PBResponse(jsonUTF8Bytes: try await ceiling.post(body: json, headers: ["Content-Type": "application/json"]).body)
        #expect(cj.results["i2"]?.scores == [0, 0] && cj.itemIds == PredictHTTPTests.items)

        // debug_level 1 (features only) has no results, like the model's answer.
        let level1: [UInt8] = try PredictHTTPTests.request(debugLevel: 1).serializedBytes()
        let c1 = try PBResponse(serializedBytes: try await ceiling.post(body: level1).body)
        let r1 = try PBResponse(serializedBytes: try await real.post(body: level1).body)
        #expect(c1.results.isEmpty && r1.results.isEmpty)
        #expect(c1.itemIds == r1.itemIds)

        let metrics = try await ceiling.get("/metrics")
        #expect(metrics.text.contains("odl_predict_requests_total{code=\"200\"} 3"), "\(metrics.text)")
        #expect(metrics.text.contains("odl_predict_items_total 9"), "\(metrics.text)")
        await real.stop()
        await ceiling.stop()
    }

    @Test func refusesBadRequestsLikeTheRealServer() async throws {
        let (real, ceiling) = try await Self.servers()
        let good: [UInt8] = try PredictHTTPTests.request().serializedBytes()
        var cases: [(String, [UInt8], [String: String])] = []
        cases.append(("truncated", Array(good.prefix(good.count - 3)), [:]))
        cases.append(("garbage", [0xff, 0xff, 0xff, 0x07, 0x01], [:]))
        cases.append(("content type", good, ["Content-Type": "text/plain"]))
        cases.append(("gzip", Array(GzipCodec.compress(good).prefix(10)), ["Content-Encoding": "gzip"]))
        cases.append(("oversize", [UInt8](repeating: 0x20, count: 5000), ["Content-Type": "application/json"]))
        cases.append(("bad json", Array(#"{"item_ids": ["i1"], "colour": 3}"#.utf8), ["Content-Type": "application/json"]))
        var empty = PredictHTTPTests.request()
        empty.itemIds = []
        cases.append(("no items", try empty.serializedBytes(), [:]))
        var many = PredictHTTPTests.request()
        many.itemIds = (0..<6).map { "x\($0)" }
        many.contextFeatures = [:]
        cases.append(("too many items", try many.serializedBytes(), [:]))
        var level = PredictHTTPTests.request()
        level.debugLevel = 4
        cases.append(("debug level", try level.serializedBytes(), [:]))
        var mismatched = PredictHTTPTests.request()
        mismatched.contextFeatures["price"]?.features.removeLast()
        cases.append(("context length", try mismatched.serializedBytes(), [:]))

        var refused = 0
        for (name, body, headers) in cases {
            let r = try await real.post(body: body, headers: headers)
            let c = try await ceiling.post(body: body, headers: headers)
            #expect(r.status == 400 || r.status == 413, "\(name): real answered \(r.status)")
            #expect(c.status == r.status, "\(name): ceiling \(c.status), real \(r.status)")
            #expect(c.body == r.body, "\(name): ceiling \(c.text) vs real \(r.text)")
            #expect(c.headers["content-type"] == r.headers["content-type"], "\(name)")
            if r.status == 400 { refused += 1 }
        }
        let decoded = try PBResponse(serializedBytes: try await ceiling.post(body: try level.serializedBytes()).body)
        #expect(decoded.statusCode == .exception && decoded.errorMsg.contains("debug_level"))
        let noItems = try PBResponse(serializedBytes: try await ceiling.post(body: try empty.serializedBytes()).body)
        #expect(noItems.statusCode == .inputEmpty)

        // Counted alike; both still answer.
        let counted = "odl_predict_requests_total{code=\"400\"} \(refused + 2)"
        #expect(try await ceiling.get("/metrics").text.contains(counted))
        _ = try await real.post(body: try level.serializedBytes())
        _ = try await real.post(body: try empty.serializedBytes())
        #expect(try await real.get("/metrics").text.contains(counted))
        #expect(try await ceiling.post(body: good).status == 200)
        await real.stop()
        await ceiling.stop()
    }

    @Test func sameAuthentication() async throws {
        let (real, ceiling) = try await Self.servers(token: "s3cret")
        let good: [UInt8] = try PredictHTTPTests.request().serializedBytes()
        for server in [real, ceiling] {
            #expect(try await server.post(body: good).status == 401)
            #expect(try await server.post(body: good, headers: ["Authorization": "wrong"]).status == 401)
            #expect(try await server.post(body: good, headers: ["Authorization": "s3cret"]).status == 200)
        }
        await real.stop()
        await ceiling.stop()
    }
}
