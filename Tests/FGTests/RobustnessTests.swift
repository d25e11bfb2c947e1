import XCTest
@testable import FG

/// Deterministic mutation fuzzing: malformed configs, requests and samples give errors, never crashes.
final class RobustnessTests: XCTestCase {
    struct LCG {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
    }

    static func mutate(_ bytes: [UInt8], _ rng: inout LCG) -> [UInt8] {
        var b = bytes
        for _ in 0..<(1 + rng.next(4)) {
            guard !b.isEmpty else { break }
            let i = rng.next(b.count)
            switch rng.next(4) {
            case 0: b.remove(at: i)
            case 1:
                let alphabet = Array("{}[]\":,0x\u{1d}\\-e.".utf8)
                b.insert(alphabet[rng.next(alphabet.count)], at: i)
            case 2: b[i] = UInt8(truncatingIfNeeded: rng.next(256))
            default: b.removeSubrange(i..<min(b.count, i + rng.next(20)))
            }
        }
        return b
    }

    func testMutatedConfigsAndRequestsNeverCrash() throws {
        let configText = try XCTUnwrap(FileManager.default.contents(atPath: T.compatDir + "/fg_test_extensions.json"))
        let requestText = Array(#"""
        {"user_features": {"user_id": {"string_feature": "u1"}, "tag_brand_list": {"string_feature": "b1:2\u001db2:3"},
          "opt_content_long_seq": {"string_feature": "a;b"}}, "item_ids": ["i1", "i2"],
         "context_features": {"price": {"features": [{"float_feature": 9.5}, {"int_feature": 3}]}, "brand": {"features": [{"string_feature": "b1"}]}}}
        """#.utf8)
        let good = try FGConfig(jsonBytes: [UInt8](configText))
        XCTAssertNoThrow(try FGRequest.parseJSON(requestText))
        var rng = LCG(state: 42)
        var configErrors = 0, requestErrors = 0, evaluated = 0
        let plan = FGPlan(config: good)
        var batch = plan.makeBatch()
        let specs = try good.columnSpecs()
        let encoder = try ColumnEncoder(specs: specs, layout: plan.outputNames)
        var encoded = EncodedBatch(columnCount: specs.count)
        for _ in 0..<400 {
            let c = Self.mutate([UInt8](configText), &rng)
            if let config = try? FGConfig(jsonBytes: c) {
                let p = FGPlan(config: config)
                var b = p.makeBatch()
                XCTAssertNoThrow(try p.evaluate(T.generatedRequest(for: config, items: 3), into: &b))
                _ = try? config.columnSpecs()
            } else {
                configErrors += 1
            }
            let r = Self.mutate(requestText, &rng)
            if let req = try? FGRequest.parseJSON(r) {
                try plan.evaluate(req, into: &batch)
                try encoder.encode(batch, into: &encoded)
                XCTAssertEqual(encoded.batchSize, req.itemIds.count)
                evaluated += 1
            } else {
                requestErrors += 1
            }
        }
        XCTAssertGreaterThan(configErrors, 50)
        XCTAssertGreaterThan(requestErrors, 50)
        XCTAssertGreaterThan(evaluated, 10)
    }

    func testMutatedSamplesNeverCrash() throws {
        let config = try FGConfig(jsonString: EncodingTests.richConfig)
        let plan = FGPlan(config: config)
        let lines = try plan.renderSamples(EncodingTests.richRequest()).map { Array($0.utf8) }
        let schema = config.sampleSchema()
        let specs = try config.columnSpecs()
        let encoder = try ColumnEncoder(specs: specs, layout: schema.names)
        var batch = FeatureBatch()
        var out = EncodedBatch(columnCount: specs.count)
        var rng = LCG(state: 7)
        var failures = 0, successes = 0
        for _ in 0..<400 {
            let mutated = lines.map { Self.mutate($0, &rng) }
            do {
                try batch.loadSamples(mutated, fieldSeparator: 0x02, schema: schema)
                try encoder.encode(batch, into: &out)
                XCTAssertEqual(out.batchSize, lines.count)
                successes += 1
            } catch {
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, 10)
        XCTAssertGreaterThan(successes, 10)
    }
}
