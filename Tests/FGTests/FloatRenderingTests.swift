import Testing
@testable import FG

/// Sample-format FG output prints a float32 feature value as the shortest text that round-trips
/// the float32 (issue 18, item 15), and other doubles unchanged.
@Suite struct FloatRenderingTests {
    static func text(_ x: Double) -> String {
        var out: [UInt8] = []
        FGMath.appendShortestValue(x, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func float32ValuesPrintShort() {
        #expect(Self.text(Double(Float(56.88))) == "56.88")
        #expect(Self.text(Double(Float(0.1))) == "0.1")
        #expect(Self.text(3) == "3.0")
        // A double that is not a float32 keeps its own shortest form.
        #expect(Self.text(0.1) == "0.1")
        #expect(Self.text(1.0 / 3.0) == "0.3333333333333333")
        #expect(Self.text(Double.nan) == "nan")
        // Round trip: the printed text parses back to the same float32.
        for x: Float in [56.88, 1e-7, 123456.79, -0.015625, 3.4e38] {
            #expect(Float(Self.text(Double(x))) == x, "\(x)")
        }
    }

    @Test func sampleLinesPrintTheFloat32() throws {
        let config = try FGConfig(jsonString: """
        {"features": [{"feature_type": "raw_feature", "feature_name": "price", "expression": "item:price"},
                      {"feature_type": "id_feature", "feature_name": "cat", "expression": "item:cat", "hash_bucket_size": 10}]}
        """)
        let plan = FGPlan(config: config)
        let request = FGRequest(itemIds: ["a", "b"], itemFeatures: ["price": [.float(Double(Float(56.88))), .float(Double(Float(0.3)))],
                                                                     "cat": [.string("x"), .string("y")]])
        let lines = try plan.renderSamples(request)
        #expect(lines[0].hasPrefix("56.88\u{02}"), "\(lines[0].debugDescription)")
        #expect(lines[1].hasPrefix("0.3\u{02}"), "\(lines[1].debugDescription)")
        #expect(!lines.joined().contains("56.880001"))
    }
}
