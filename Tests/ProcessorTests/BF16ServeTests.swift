import Foundation
import Inference
@testable import Processor
import Testing

/// `--embedding-dtype bf16` end to end in-process: /status reports it and the halved table
/// bytes, and predictions on models/sample stay within the bound measured for bf16.
@Suite struct BF16ServeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    func scores(_ server: ServerFixture, _ body: [UInt8]) async throws -> [String: [Double]] {
        let reply = try await server.post("/api/predict/any", body: body, headers: ["Content-Type": "application/json"])
        #expect(reply.status == 200, "\(reply.text)")
        let response = try PBResponse(jsonUTF8Bytes: reply.body)
        return response.results.mapValues { $0.scores }
    }

    @Test func statusAndPredictionsOfABF16Model() async throws {
        let limits = ServeLimits()
        let f32 = try LoadedModel.load(path: Self.root + "/models/sample", embeddingDir: nil, limits: limits)
        let bf16 = try LoadedModel.load(path: Self.root + "/models/sample", embeddingDir: nil, limits: limits, embeddingDType: .bf16)
        let a = try await ServerFixture(model: f32)
        let b = try await ServerFixture(model: bf16) { $0.embeddingDType = .bf16 }
        let sa = try await a.status(), sb = try await b.status()
        #expect(sa.model.embeddingDType == "f32")
        #expect(sb.model.embeddingDType == "bf16")
        #expect(sa.model.tableBytes > 0)
        #expect(sb.model.tableBytes * 2 == sa.model.tableBytes)
        #expect(sa.model.checksum != sb.model.checksum)
        let body = Array(try Data(contentsOf: URL(fileURLWithPath: Self.root + "/models/sample/request.json")))
        let pa = try await scores(a, body), pb = try await scores(b, body)
        #expect(pa.keys.sorted() == pb.keys.sorted())
        #expect(!pa.isEmpty)
        for (item, s) in pa {
            let t = try #require(pb[item])
            // scores = [probs, logits]; the bound is the measured max |dp| of the InferenceTests
            // bf16 suite on models/sample (BF16Tests.sampleMaxBound).
            #expect(abs(s[0] - t[0]) <= BF16ServeTests.maxProbDiff, "item \(item): \(s[0]) vs \(t[0])")
            #expect(s[0] != t[0] || s[1] != t[1], "bf16 changed nothing for item \(item)")
        }
        await a.stop()
        await b.stop()
    }

    /// The measured bf16 max |dp| on models/sample (InferenceTests' BF16Tests.sampleMaxBound).
    static let maxProbDiff = 0.0145
}
