import Bench
import XCTest
@testable import FG

final class EncodingTests: XCTestCase {
    static func assertEqual(_ a: EncodedBatch, _ b: EncodedBatch, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.batchSize, b.batchSize, context, file: file, line: line)
        XCTAssertEqual(a.columns.count, b.columns.count, context, file: file, line: line)
        for (k, (x, y)) in zip(a.columns, b.columns).enumerated() {
            XCTAssertEqual(x.offsets, y.offsets, "\(context) column \(k) offsets", file: file, line: line)
            XCTAssertEqual(x.ids, y.ids, "\(context) column \(k) ids", file: file, line: line)
            XCTAssertEqual(x.weights, y.weights, "\(context) column \(k) weights", file: file, line: line)
        }
    }

    /// A config exercising floats, multi-dim raw, weights, bucketize, boundaries, overlap, match, combo.
    static let richConfig = """
    {"features": [
      {"feature_type":"id_feature","feature_name":"user_id","expression":"user:user_id","hash_bucket_size":100000},
      {"feature_type":"id_feature","feature_name":"tags","expression":"user:tags","hash_bucket_size":1000,"is_multi":true,
       "extra_combo_info":{"final_feature_name":"uid_x_tags","feature_names":["user_id"],"hash_bucket_size":77}},
      {"feature_type":"raw_feature","feature_name":"price","expression":"item:price"},
      {"feature_type":"raw_feature","feature_name":"vec","expression":"item:vec","value_dimension":3},
      {"feature_type":"raw_feature","feature_name":"pb","expression":"item:price","bucketize_boundaries":"5,10,20"},
      {"feature_type":"raw_feature","feature_name":"pr","expression":"item:price","boundaries":[1,8.5,30]},
      {"feature_type":"lookup_feature","feature_name":"wl","map":"user:m","key":"item:k","hash_bucket_size":50,"needWeighting":true},
      {"feature_type":"lookup_feature","feature_name":"fl","map":"user:m","key":"item:k","needDiscrete":false,"combiner":"mean"},
      {"feature_type":"match_feature","feature_name":"mt","user":"user:mu","category":"item:c","item":"item:k","hash_bucket_size":20,"use_embedding_variable":true},
      {"feature_type":"overlap_feature","feature_name":"ov","query":"user:q","title":"item:t","method":"common_word_divided","num_buckets":5},
      {"feature_type":"combo_feature","feature_name":"cb","expression":["user:tags","item:k"],"vocab_list":["cb_a_k1","cb_b_k2"]}
    ]}
    """

    static func richRequest() -> FGRequest {
        FGRequest(
            userFeatures: ["user_id": .string("100002"), "tags": .string("a\u{1d}b"), "m": .string("k1:0.25\u{1d}k2:3"),
                           "mu": .string("c1^k1:2.5|c2^k2:4"), "q": .string("x,y")],
            itemIds: ["i1", "i2", "i3"],
            itemFeatures: ["price": [.float(9.5), .float(0.1), .int(100)], "vec": [.string("1\u{1d}2.5\u{1d}-3"), .floats([0.1, 0.2]), .string("q")],
                           "k": [.string("k1"), .string("k2\u{1d}k1"), .string("k9")], "c": [.string("c1"), .string("c2"), .string("c1")],
                           "t": [.string("y"), .string("x,y,z"), .string("")]])
    }

    func testRequestPathAndSamplePathEncodeIdentically() throws {
        var configs = try T.compatFiles().map { try FGConfig.load(path: $0) }
        configs.append(try FGConfig(jsonString: Self.richConfig))
        configs.append(try FGConfig(jsonString: FGBenchmark.configJSON))
        for (n, config) in configs.enumerated() {
            let plan = FGPlan(config: config)
            let request = n == configs.count - 2 ? Self.richRequest()
                : n == configs.count - 1 ? FGBenchmark.makeRequest(items: 6) : T.generatedRequest(for: config, items: 6)
            var batch = plan.makeBatch()
            try plan.evaluate(request, into: &batch)
            let specs = try config.columnSpecs()
            var fromRequest = EncodedBatch(columnCount: specs.count)
            try ColumnEncoder(specs: specs, layout: plan.outputNames).encode(batch, into: &fromRequest)

            // Trainer path: label + rendered FG outputs, \x02-separated.
            let lines = (0..<batch.itemCount).map { i in "\(i % 2)\u{02}" + batch.renderSample(item: i) }
            let schema = config.sampleSchema(leadingFields: ["clk"])
            var samples = FeatureBatch()
            try samples.loadSamples(lines, fieldSeparator: 0x02, schema: schema)
            XCTAssertEqual(samples.numbers(slot: 0, item: 1), [1])
            XCTAssertEqual(samples.firstNumber(slot: 0, item: 0), 0)
            for s in 0..<plan.outputNames.count {
                for i in 0..<batch.itemCount {
                    XCTAssertEqual(samples.strings(slot: s + 1, item: i), batch.strings(slot: s, item: i), "config \(n) slot \(s)")
                    XCTAssertEqual(samples.weights(slot: s + 1, item: i), batch.weights(slot: s, item: i), "config \(n) slot \(s)")
                }
            }
            var fromSamples = EncodedBatch(columnCount: 0)
            try ColumnEncoder(specs: specs, layout: schema.names).encode(samples, into: &fromSamples)
            Self.assertEqual(fromRequest, fromSamples, "config \(n)")
            XCTAssertGreaterThan(fromRequest.columns.reduce(0) { $0 + $1.ids.count }, 6 * 3, "config \(n) encodes something")
        }
    }

    func testRichConfigEncodingValues() throws {
        let config = try FGConfig(jsonString: Self.richConfig)
        let plan = FGPlan(config: config)
        var batch = plan.makeBatch()
        try plan.evaluate(Self.richRequest(), into: &batch)
        let specs = try config.columnSpecs()
        XCTAssertEqual(specs.map(\.name), ["user_id", "tags", "uid_x_tags", "price", "vec", "pb", "pr", "wl", "fl", "mt", "ov", "cb"])
        var e = EncodedBatch(columnCount: 1)
        try ColumnEncoder(specs: specs, layout: plan.outputNames).encode(batch, into: &e)
        func col(_ name: String) throws -> EncodedBatch.Column { e.columns[try XCTUnwrap(specs.firstIndex { $0.name == name })] }
        func ids(_ name: String, _ item: Int) throws -> [Int64] {
            let c = try col(name)
            return Array(c.ids[Int(c.offsets[item])..<Int(c.offsets[item + 1])])
        }
        func weights(_ name: String, _ item: Int) throws -> [Float] {
            let c = try col(name)
            return Array(c.weights[Int(c.offsets[item])..<Int(c.offsets[item + 1])])
        }
        // fg.md golden: user_id_100002 mod 100000 -> 40708, broadcast to every item
        for i in 0..<3 { XCTAssertEqual(try ids("user_id", i), [40708]) }
        XCTAssertEqual(try ids("tags", 0), [Int64(FarmHash.fingerprint64("tags_a") % 1000), Int64(FarmHash.fingerprint64("tags_b") % 1000)])
        // pipeline ComboFeature: crossed hash over (tags ids) x (user_id ids)
        func cross(_ parts: [String], _ buckets: UInt64) -> Int64 {
            var h: UInt64 = 0xDECAFCAFFE
            for p in parts { h = FarmHash.fingerprintCat64(h, FarmHash.fingerprint64(p)) }
            return Int64(h % buckets)
        }
        XCTAssertEqual(try ids("uid_x_tags", 2), [cross(["tags_a", "user_id_100002"], 77), cross(["tags_b", "user_id_100002"], 77)])
        // raw: one row weighted by the value
        XCTAssertEqual(try ids("price", 0), [0])
        XCTAssertEqual(try weights("price", 0), [9.5])
        XCTAssertEqual(try ids("vec", 0), [0, 1, 2])
        XCTAssertEqual(try weights("vec", 0), [1, 2.5, -3])
        XCTAssertEqual(try weights("vec", 1), [0.1, 0.2, 0])
        XCTAssertEqual(try weights("vec", 2), [0, 0, 0])  // unparsable -> default 0
        // FG-bucketized -> identity ids; boundaries
        XCTAssertEqual(try ids("pb", 0), [1])
        XCTAssertEqual(try ids("pb", 2), [3])
        XCTAssertEqual(try ids("pr", 0), [2])
        XCTAssertEqual(try ids("pr", 1), [0])
        // weighted lookup
        XCTAssertEqual(try ids("wl", 1), [Int64(FarmHash.fingerprint64("wl_k2") % 50), Int64(FarmHash.fingerprint64("wl_k1") % 50)])
        XCTAssertEqual(try weights("wl", 1), [3, 0.25])
        XCTAssertEqual(try weights("fl", 1), [1.625])
        XCTAssertEqual(try ids("fl", 2), [0])
        XCTAssertEqual(try weights("fl", 2), [0])
        // key-value: Fingerprint64 mod (2^63 - 1)
        XCTAssertEqual(try ids("mt", 0), [Int64(FarmHash.fingerprint64("mt_c1_k1_2.5") % UInt64(Int64.max))])
        XCTAssertEqual(try ids("mt", 2), [])
        // overlap with num_buckets: "ov_y" is not an integer -> dropped
        XCTAssertEqual(try ids("ov", 0), [])
        // vocabulary
        XCTAssertEqual(try ids("cb", 0), [0])
        XCTAssertEqual(try ids("cb", 1), [0, 1])  // cb_a_k1, cb_b_k2 of the product a,b x k2,k1
        XCTAssertEqual(try ids("cb", 2), [])
    }

    func testColumnKindsDirectly() throws {
        let specs = [
            FeatureColumnSpec(name: "h", inputNames: ["a"], kind: .hashed(bucketSize: 3), embeddingDim: 4),
            FeatureColumnSpec(name: "id", inputNames: ["n"], kind: .identity(numBuckets: 5), embeddingDim: 4),
            FeatureColumnSpec(name: "tw", inputNames: ["a", "w"], kind: .hashed(bucketSize: 1000), embeddingDim: 4),
            FeatureColumnSpec(name: "x", inputNames: ["a", "n"], kind: .combo(bucketSize: 1000), embeddingDim: 4),
        ]
        let schema = SampleSchema(fields: [SampleField(name: "a", separator: UInt8(ascii: "|")),
                                           SampleField(name: "n", separator: UInt8(ascii: "|")),
                                           SampleField(name: "w", separator: UInt8(ascii: "|"))])
        var b = FeatureBatch()
        try b.loadSamples(["Hello|a,3|7|-1|4.0|x,0.5|2", ",,"], fieldSeparator: UInt8(ascii: ","), schema: schema)
        var e = EncodedBatch(columnCount: 4)
        try ColumnEncoder(specs: specs, layout: schema.names).encode(b, into: &e)
        XCTAssertEqual(Array(e.columns[0].ids[0..<2]), [Int64(UInt64(15404698994557526151) % 3), Int64(UInt64(12917804110809363939) % 3)])
        XCTAssertEqual(e.columns[0].offsets, [0, 2, 2])   // empty field -> no entries
        XCTAssertEqual(e.columns[1].ids, [3, 4])          // 7 and -1 out of range, x not a number, 4.0 integral
        XCTAssertEqual(e.columns[2].weights, [0.5, 2])    // weights from the second input
        XCTAssertEqual(e.columns[3].ids.count, 2 * 5)     // cartesian product
        XCTAssertEqual(e.columns[3].offsets, [0, 10, 10])
    }

    func testBypassRequestAndCSVSampleEncodeIdentically() throws {
        let specs = [
            FeatureColumnSpec(name: "uid", inputNames: ["uid"], kind: .hashed(bucketSize: 1000), embeddingDim: 8),
            FeatureColumnSpec(name: "tags", inputNames: ["tags"], kind: .hashed(bucketSize: 1000), embeddingDim: 8, combiner: .mean, separator: "|"),
            FeatureColumnSpec(name: "price", inputNames: ["price"], kind: .raw(dimension: 1), embeddingDim: 8),
            FeatureColumnSpec(name: "bucket", inputNames: ["bucket"], kind: .identity(numBuckets: 10), embeddingDim: 8),
            FeatureColumnSpec(name: "age", inputNames: ["age"], kind: .boundaries([18, 30, 50]), embeddingDim: 8),
            FeatureColumnSpec(name: "kw", inputNames: ["kw"], kind: .keyValue, embeddingDim: 8, separator: "|", kvSeparator: ":"),
            FeatureColumnSpec(name: "uid_tags", inputNames: ["uid", "tags"], kind: .combo(bucketSize: 500), embeddingDim: 8),
            FeatureColumnSpec(name: "item", inputNames: ["item_id"], kind: .hashed(bucketSize: 100), embeddingDim: 8),
        ]
        let fields = ["clk", "uid", "tags", "price", "bucket", "age", "kw", "item_id"]
        let schema = SampleSchema(specs: specs, inputFields: fields)
        XCTAssertEqual(schema.fields[2].separator, UInt8(ascii: "|"))
        XCTAssertEqual(schema.fields[6].kvSeparator, UInt8(ascii: ":"))
        let request = FGRequest(
            userFeatures: ["uid": .int(123), "age": .int(33), "kw": .string("a:0.5|b:2")],
            itemIds: ["it1", "it2"],
            itemFeatures: ["tags": [.string("x|y"), .strings(["z"])], "price": [.float(9.5), .float(12)],
                           "bucket": [.int(3), .int(12)]])
        var live = FeatureBatch()
        try live.loadBypass(request, schema: schema)
        let csv = ["1,123,x|y,9.5,3,33,a:0.5|b:2,it1", "0,123,z,12.0,12,33,a:0.5|b:2,it2"]
        var offline = FeatureBatch()
        try offline.loadSamples(csv, fieldSeparator: UInt8(ascii: ","), schema: schema)
        var a = EncodedBatch(columnCount: 0), b = EncodedBatch(columnCount: 0)
        let encoder = try ColumnEncoder(specs: specs, layout: schema.names)
        try encoder.encode(live, into: &a)
        try encoder.encode(offline, into: &b)
        Self.assertEqual(a, b, "bypass")
        XCTAssertEqual(a.columns[0].ids, [Int64(FarmHash.fingerprint64("123") % 1000), Int64(FarmHash.fingerprint64("123") % 1000)])
        XCTAssertEqual(a.columns[3].offsets, [0, 1, 1])  // 12 out of range
        XCTAssertEqual(a.columns[4].ids, [2, 2])
        XCTAssertEqual(a.columns[5].weights, [0.5, 2, 0.5, 2])
        XCTAssertEqual(a.columns[6].offsets, [0, 2, 3])
    }

    func testMalformedSamplesAndLayouts() throws {
        let config = try FGConfig.load(path: T.compatDir + "/fg.json")
        var b = FeatureBatch()
        XCTAssertThrowsError(try b.loadSamples(["a\u{02}b"], fieldSeparator: 0x02, schema: config.sampleSchema())) { e in
            XCTAssertEqual(e as? FGError, .invalidSample(line: 0, field: "(line)", reason: "has 2 fields, expected 18"))
        }
        let weighted = SampleSchema(fields: [SampleField(name: "w", separator: 3, kvSeparator: UInt8(ascii: ":"))])
        XCTAssertThrowsError(try b.loadSamples(["id_without_weight"], fieldSeparator: 0x02, schema: weighted))
        XCTAssertThrowsError(try b.loadSamples(["id:notanumber"], fieldSeparator: 0x02, schema: weighted))
        XCTAssertThrowsError(try config.parseSample("a\u{02}b"))
        let spec = FeatureColumnSpec(name: "c", inputNames: ["missing"], kind: .keyValue, embeddingDim: 4)
        XCTAssertThrowsError(try ColumnEncoder(specs: [spec], layout: ["a"])) { e in
            XCTAssertEqual(e as? FGError, .missingInput(column: "c", input: "missing"))
        }
        let enc = try ColumnEncoder(specs: [], layout: ["x"])
        var out = EncodedBatch(columnCount: 0)
        XCTAssertThrowsError(try enc.encode(FeatureBatch(names: ["y"]), into: &out))
    }

    func testSampleRenderingRoundTrip() throws {
        let config = try FGConfig(jsonString: Self.richConfig)
        let plan = FGPlan(config: config)
        let lines = try plan.renderSamples(Self.richRequest())
        XCTAssertEqual(lines.count, 3)
        let parsed = try config.parseSample(lines[1])
        XCTAssertEqual(parsed.count, config.features.count)
        XCTAssertEqual(parsed[0], ["user_id_100002"])
        XCTAssertEqual(parsed[1], ["tags_a", "tags_b"])
        XCTAssertEqual(parsed[2], ["0.1"])  // floats render shortest round-trip
        XCTAssertEqual(parsed[6], ["wl_k2:3.0", "wl_k1:0.25"])
        XCTAssertEqual(lines[0].split(separator: "\u{02}", omittingEmptySubsequences: false).count, config.features.count)
        // rendering of a float output survives the round trip bit-exactly
        var b = FeatureBatch()
        try b.loadSamples(lines, fieldSeparator: 0x02, schema: config.sampleSchema())
        XCTAssertEqual(b.numbers(slot: 2, item: 1), [0.1])
        for i in 0..<3 { XCTAssertEqual(b.renderSample(item: i), lines[i]) }
    }
}
