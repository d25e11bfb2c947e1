import XCTest
@testable import FG

final class FGEvaluationTests: XCTestCase {
    let idItemIsMain = #"{"feature_type":"id_feature","feature_name":"item_is_main","expression":"item:is_main","hash_bucket_size":10}"#

    func testIdFeatureWorkedExamples() throws {
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.int(100)]]), [["item_is_main_100"]])
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.string("abc\u{1d}bcd")]]),
                       [["item_is_main_abc", "item_is_main_bcd"]])
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.string("\u{1d}abc\u{1d}\u{1d}")]]),
                       [["item_is_main_abc"]])  // empty strings dropped
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.strings(["x", "", "y"])]]),
                       [["item_is_main_x", "item_is_main_y"]])
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.bool(true)]]), [["item_is_main_1"]])
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.ints([3, -4])]]),
                       [["item_is_main_3", "item_is_main_-4"]])
        XCTAssertEqual(try T.outputs(idItemIsMain), [[]])  // missing -> nothing
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.string("")]]), [[]])
    }

    func testNumberFormatting() throws {
        func ids(_ v: FeatureValue) throws -> [String] { try T.outputs(idItemIsMain, items: ["is_main": [v]])[0] }
        XCTAssertEqual(try ids(.float(5.5)), ["item_is_main_6"])
        XCTAssertEqual(try ids(.float(4.5)), ["item_is_main_4"])
        XCTAssertEqual(try ids(.float(-2.5)), ["item_is_main_-2"])
        XCTAssertEqual(try ids(.float(2.4999)), ["item_is_main_2"])
        XCTAssertEqual(try ids(.float(-0.4)), ["item_is_main_-0"])  // as C's %.0f
        XCTAssertEqual(try ids(.float(1e20)), ["item_is_main_100000000000000000000"])
        XCTAssertEqual(try ids(.float(.nan)), [])
        XCTAssertEqual(try ids(.floats([1.5, .nan, 2.5])), ["item_is_main_2", "item_is_main_2"])
        XCTAssertEqual(try ids(.int(Int64.max)), [])
        XCTAssertEqual(try ids(.int(Int64(Int32.max))), [])
        XCTAssertEqual(try ids(.int(Int64.min)), ["item_is_main_-9223372036854775808"])
    }

    func testIdOptions() throws {
        let f = #"{"feature_type":"id_feature","feature_name":"t","expression":"user:t","hash_bucket_size":10,"need_prefix":false,"prune_to":2,"invalid_values":["bad"],"default_value":"dflt"}"#
        XCTAssertEqual(try T.outputs(f, user: ["t": .string("a\u{1d}bad\u{1d}b\u{1d}c")]), [["a", "b"]])
        XCTAssertEqual(try T.outputs(f, user: ["t": .string("bad")]), [["dflt"]])
        XCTAssertEqual(try T.outputs(f), [["dflt"]])
    }

    func testBroadcastAndItemId() throws {
        let json = """
        {"features": [
          {"feature_type":"id_feature","feature_name":"u","expression":"user:u","hash_bucket_size":10},
          {"feature_type":"id_feature","feature_name":"iid","expression":"item:item_id","hash_bucket_size":10},
          {"feature_type":"id_feature","feature_name":"c","expression":"context:c","hash_bucket_size":10}
        ]}
        """
        let req = FGRequest(userFeatures: ["u": .string("x")], itemIds: ["a", "b", "c"], itemFeatures: ["c": [.int(7)]])
        let b = try T.run(json, req)
        for i in 0..<3 {
            XCTAssertEqual(b.strings(slot: 0, item: i), ["u_x"])
            XCTAssertEqual(b.strings(slot: 2, item: i), ["c_7"])
        }
        XCTAssertEqual((0..<3).map { b.strings(slot: 1, item: $0) }, [["iid_a"], ["iid_b"], ["iid_c"]])
        XCTAssertTrue(b.isBroadcast(slot: 0))
        XCTAssertFalse(b.isBroadcast(slot: 1))
        // a supplied item_id wins over the item ids
        let req2 = FGRequest(itemIds: ["a", "b"], itemFeatures: ["item_id": [.string("p"), .string("q")]])
        let b2 = try T.run(json, req2)
        XCTAssertEqual(b2.strings(slot: 1, item: 1), ["iid_q"])
        // wrong number of per-item values
        let bad = FGRequest(itemIds: ["a", "b", "c"], itemFeatures: ["c": [.int(1), .int(2)]])
        XCTAssertThrowsError(try T.run(json, bad)) { e in
            XCTAssertEqual(e as? FGError, .invalidRequest(field: "context_features.c", reason: "has 2 values for 3 items (expected 1 or 3)"))
        }
    }

    func testRawFeature() throws {
        let plain = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p"}"#
        func nums(_ f: String, _ v: FeatureValue?) throws -> [Double?] {
            let req = FGRequest(itemIds: ["i"], itemFeatures: v.map { ["p": [$0]] } ?? [:])
            return try T.run("{\"features\": [\(f)]}", req).numbers(slot: 0, item: 0)
        }
        XCTAssertEqual(try nums(plain, .float(9.5)), [9.5])
        XCTAssertEqual(try nums(plain, .string("2.25")), [2.25])
        XCTAssertEqual(try nums(plain, .string("abc")), [0])
        XCTAssertEqual(try nums(plain, .float(.nan)), [0])
        XCTAssertEqual(try nums(plain, nil), [0])
        XCTAssertEqual(try nums(plain, .float(.infinity)), [0])  // non-finite -> default
        let dflt = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","default_value":"-1"}"#
        XCTAssertEqual(try nums(dflt, .string("x")), [-1])
        let minmax = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","normalizer":"method=minmax,min=2,max=12"}"#
        XCTAssertEqual(try nums(minmax, .int(7)), [0.5])
        let z = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","normalizer":"method=zscore,mean=1,standard_deviation=2"}"#
        XCTAssertEqual(try nums(z, .int(5)), [2])
        let lg = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","normalizer":"method=log10"}"#
        XCTAssertEqual(try nums(lg, .int(1000)), [3])
        XCTAssertEqual(try nums(lg, .float(0.5)), [0])  // below threshold 1.0 -> default 0
        let lg2 = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","normalizer":"method=log10,threshold=5,default=-7"}"#
        XCTAssertEqual(try nums(lg2, .int(4)), [-7])
        let bucket = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","bucketize_boundaries":"10,20,30"}"#
        for (x, k) in [(5.0, "0"), (10, "1"), (19.9, "1"), (30, "3"), (1e9, "3")] {
            let req = FGRequest(itemIds: ["i"], itemFeatures: ["p": [.float(x)]])
            XCTAssertEqual(try T.run("{\"features\": [\(bucket)]}", req).strings(slot: 0, item: 0), [k], "x=\(x)")
        }
        let dim = #"{"feature_type":"raw_feature","feature_name":"p","expression":"item:p","value_dimension":3}"#
        XCTAssertEqual(try nums(dim, .string("1\u{1d}2")), [1, 2, 0])
        XCTAssertEqual(try nums(dim, .floats([1, 2, 3, 4])), [1, 2, 3])
    }

    func testComboFeature() throws {
        let f = #"{"feature_type":"combo_feature","feature_name":"cb","expression":["user:a","item:b"],"hash_bucket_size":10}"#
        XCTAssertEqual(try T.outputs(f, user: ["a": .string("x\u{1d}y")], items: ["b": [.int(1), .string("p\u{1d}q")]], itemCount: 2),
                       [["cb_x_1", "cb_y_1"], ["cb_x_p", "cb_x_q", "cb_y_p", "cb_y_q"]])
        XCTAssertEqual(try T.outputs(f, user: ["a": .string("x")]), [[]])  // one input empty -> nothing
        let pruned = #"{"feature_type":"combo_feature","feature_name":"cb","expression":["user:a","user:b","user:c"],"hash_bucket_size":10,"pruneLimit":3}"#
        XCTAssertEqual(try T.outputs(pruned, user: ["a": .string("1\u{1d}2"), "b": .string("3\u{1d}4"), "c": .int(5)]),
                       [["cb_1_3_5", "cb_1_4_5", "cb_2_3_5"]])
    }

    func testLookupFeature() throws {
        let base = #""feature_type":"lookup_feature","feature_name":"lk","map":"user:m","key":"item:k","hash_bucket_size":10"#
        let map: FeatureValue = .string("b1:7\u{1d}b2:3\u{1d}b1:9\u{1d}bad\u{1d}b3:x")
        // discrete, needKey default true, later duplicate wins
        XCTAssertEqual(try T.outputs("{\(base)}", user: ["m": map], items: ["k": [.string("b1"), .string("b2\u{1d}zz")]], itemCount: 2),
                       [["lk_b1_9"], ["lk_b2_3"]])
        XCTAssertEqual(try T.outputs("{\(base),\"needKey\":false}", user: ["m": map], items: ["k": [.string("b2")]]), [["lk_3"]])
        XCTAssertEqual(try T.outputs("{\(base),\"default_lookup_value\":\"0\"}", user: ["m": map], items: ["k": [.string("nope")]]),
                       [["lk_nope_0"]])
        // the example of fg.json: map from user side keyed by an item field
        XCTAssertEqual(try T.outputs(#"{"map":"user:tag_brand_list","key":"item:brand","feature_name":"combo_brand","feature_type":"lookup_feature","needDiscrete":true,"hash_bucket_size":100000}"#,
                                     user: ["tag_brand_list": .strings(["b5:2", "b6:4"])], items: ["brand": [.string("b6")]]),
                       [["combo_brand_b6_4"]])
        // weighted
        let w = try T.run("{\"features\": [{\(base),\"needWeighting\":true}]}",
                          FGRequest(userFeatures: ["m": map], itemIds: ["i"], itemFeatures: ["k": [.string("b2\u{1d}b1\u{1d}b3")]]))
        XCTAssertEqual(w.strings(slot: 0, item: 0), ["lk_b2", "lk_b1"])  // b3:x has no numeric weight
        XCTAssertEqual(w.weights(slot: 0, item: 0), [3, 9])
        XCTAssertEqual(w.renderSample(item: 0), "lk_b2:3.0\u{03}lk_b1:9.0")
        // non-discrete combiners
        func value(_ combiner: String, _ keys: String, extra: String = "") throws -> [Double?] {
            try T.run("{\"features\": [{\(base),\"needDiscrete\":false,\"combiner\":\"\(combiner)\"\(extra)}]}",
                      FGRequest(userFeatures: ["m": map], itemIds: ["i"], itemFeatures: ["k": [.string(keys)]])).numbers(slot: 0, item: 0)
        }
        XCTAssertEqual(try value("sum", "b1\u{1d}b2"), [12])
        XCTAssertEqual(try value("mean", "b1\u{1d}b2"), [6])
        XCTAssertEqual(try value("min", "b1\u{1d}b2"), [3])
        XCTAssertEqual(try value("max", "b1\u{1d}b2"), [9])
        XCTAssertEqual(try value("count", "b1\u{1d}b2\u{1d}none"), [2])
        XCTAssertEqual(try value("sum", "none"), [0])
        XCTAssertEqual(try value("sum", "b1", extra: #","normalizer":"method=minmax,min=0,max=18""#), [0.5])
        let bucketed = try T.run("{\"features\": [{\(base),\"needDiscrete\":false,\"bucketize_boundaries\":\"5,10\"}]}",
                                 FGRequest(userFeatures: ["m": map], itemIds: ["i"], itemFeatures: ["k": [.string("b1")]]))
        XCTAssertEqual(bucketed.strings(slot: 0, item: 0), ["1"])
    }

    func testMatchFeature() throws {
        let user: FeatureValue = .string("c1^k1:5,k2:6|c2^k1:7,k3:8")
        let base = #""feature_type":"match_feature","feature_name":"mt","user":"user:u","item":"item:k","hash_bucket_size":10"#
        let cat = #","category":"item:c""#
        XCTAssertEqual(try T.outputs("{\(base)\(cat)}", user: ["u": user],
                                     items: ["c": [.string("c1"), .string("c2"), .string("c9")], "k": [.string("k2"), .string("k1"), .string("k1")]],
                                     itemCount: 3),
                       [["mt_c1_k2_6"], ["mt_c2_k1_7"], []])
        // hit takes the first item key only; multihit every key
        XCTAssertEqual(try T.outputs("{\(base)\(cat)}", user: ["u": user], items: ["c": [.string("c2")], "k": [.string("k3\u{1d}k1")]]),
                       [["mt_c2_k3_8"]])
        XCTAssertEqual(try T.outputs("{\(base)\(cat),\"matchType\":\"multihit\"}", user: ["u": user],
                                     items: ["c": [.string("c2")], "k": [.string("k3\u{1d}k1")]]),
                       [["mt_c2_k3_8", "mt_c2_k1_7"]])
        // category ALL: any category
        XCTAssertEqual(try T.outputs("{\(base),\"category\":\"ALL\",\"matchType\":\"multihit\"}", user: ["u": user], items: ["k": [.string("k1")]]),
                       [["mt_c1_k1_5", "mt_c2_k1_7"]])
        // non-discrete
        let nd = try T.run("{\"features\": [{\(base)\(cat),\"needDiscrete\":false}]}",
                           FGRequest(userFeatures: ["u": user], itemIds: ["a", "b"],
                                     itemFeatures: ["c": [.string("c2")], "k": [.string("k3"), .string("zz")]]))
        XCTAssertEqual(nd.numbers(slot: 0, item: 0), [8])
        XCTAssertEqual(nd.numbers(slot: 0, item: 1), [0])
    }

    func testOverlapWorkedExamples() throws {
        let user: [String: FeatureValue] = ["q": .string("high,high2,fiberglass,abc")]
        let items: [String: [FeatureValue]] = ["t": [.string("high,quality,fiberglass,tube,for,golf,bag")]]
        func overlap(_ method: String) throws -> [String] {
            try T.outputs(#"{"feature_type":"overlap_feature","feature_name":"name","query":"user:q","title":"item:t","method":"\#(method)","hash_bucket_size":10}"#,
                          user: user, items: items)[0]
        }
        XCTAssertEqual(try overlap("common_word"), ["name_high_fiberglass"])
        XCTAssertEqual(try overlap("query_common_ratio"), ["name_5"])
        XCTAssertEqual(try overlap("title_common_ratio"), ["name_28"])
        XCTAssertEqual(try overlap("diff_word"), ["name_high2_abc"])
        XCTAssertEqual(try overlap("common_word_divided"), ["name_high", "name_fiberglass"])
        XCTAssertEqual(try overlap("diff_word_divided"), ["name_high2", "name_abc"])
        XCTAssertEqual(try overlap("is_equal"), ["name_0"])
        XCTAssertEqual(try overlap("is_contain"), ["name_0"])
        let contained = try T.outputs(#"{"feature_type":"overlap_feature","feature_name":"name","query":"user:q","title":"item:t","method":"is_contain","hash_bucket_size":10}"#,
                                      user: ["q": .string("golf\u{1d}bag")], items: items)
        XCTAssertEqual(contained, [["name_1"]])
    }

    func testSequenceFeature() throws {
        let json = """
        {"features": [{"sequence_name":"click","sequence_column":"click_seq","sequence_length":3,"sequence_delim":";","sequence_pk":"item_id",
          "features":[
            {"feature_name":"item_id","feature_type":"id_feature","expression":"item:item_id","hash_bucket_size":10},
            {"feature_name":"cate","feature_type":"id_feature","expression":"item:cate","hash_bucket_size":10,"need_prefix":false,"default_value":"-1"},
            {"feature_name":"price","feature_type":"raw_feature","expression":"item:price"}]}]}
        """
        let req = FGRequest(userFeatures: ["click_seq": .string("a;b;;d;e"), "click__price": .string("1.5;x;3")], itemIds: ["i1", "i2"])
        let b = try T.run(json, req)
        XCTAssertEqual(b.names, ["click_item_id", "click_cate", "click_price"])
        XCTAssertEqual(b.strings(slot: 0, item: 1), ["item_id_a", "item_id_b"])  // empty element dropped, length 3
        XCTAssertEqual(b.strings(slot: 1, item: 0), ["-1", "-1", "-1"])           // no per-element values: default
        XCTAssertEqual(b.numbers(slot: 2, item: 0), [1.5, 0, 3])
        let req3 = FGRequest(userFeatures: ["click_seq": .string("a;b;c"), "click__price": .string("7")], itemIds: ["i"])
        XCTAssertEqual(try T.run(json, req3).numbers(slot: 2, item: 0), [7, 0, 0])  // padded to the sequence length
        let req2 = FGRequest(userFeatures: ["click__cate": .string("c1;;c3")], itemIds: ["i"])
        let b2 = try T.run(json, req2)
        XCTAssertEqual(b2.strings(slot: 1, item: 0), ["c1", "-1", "c3"])
        XCTAssertEqual(b2.strings(slot: 0, item: 0), [])
    }

    func testHugeMultiValuesAreCapped() throws {
        let many = (0..<5000).map { "v\($0)" }.joined(separator: "\u{1d}")
        let limits = FGLimits(maxValuesPerInput: 100, maxOutputsPerFeature: 50)
        let out = try T.outputs(idItemIsMain, items: ["is_main": [.string(many)]], limits: FGLimits(maxValuesPerInput: 100))
        XCTAssertEqual(out[0].count, 100)
        XCTAssertEqual(out[0].last, "item_is_main_v99")
        let combo = #"{"feature_type":"combo_feature","feature_name":"cb","expression":["user:a","user:a"],"hash_bucket_size":10}"#
        XCTAssertEqual(try T.outputs(combo, user: ["a": .string(many)], limits: limits)[0].count, 50)
        // default limit holds too
        XCTAssertEqual(try T.outputs(idItemIsMain, items: ["is_main": [.string(many)]])[0].count, FGLimits().maxValuesPerInput)
        let tooMany = FGRequest(itemIds: (0..<20).map { "i\($0)" })
        XCTAssertThrowsError(try T.run("{\"features\": [\(idItemIsMain)]}", tooMany, limits: FGLimits(maxItems: 10)))
    }

    func testZeroItems() throws {
        let config = try FGConfig.load(path: T.compatDir + "/fg.json")
        let plan = FGPlan(config: config)
        var batch = plan.makeBatch()
        try plan.evaluate(FGRequest(userFeatures: ["user_id": .string("u")], itemIds: []), into: &batch)
        XCTAssertEqual(batch.itemCount, 0)
        var out = EncodedBatch(columnCount: 0)
        try ColumnEncoder(specs: try config.columnSpecs(), layout: plan.outputNames).encode(batch, into: &out)
        XCTAssertEqual(out.batchSize, 0)
        XCTAssertTrue(out.columns.allSatisfy { $0.offsets == [0] })
    }

    func testBufferReuseGivesSameResults() throws {
        let config = try FGConfig.load(path: T.compatDir + "/fg_test_extensions.json")
        let plan = FGPlan(config: config)
        var reused = plan.makeBatch()
        let big = T.generatedRequest(for: config, items: 9)
        let small = T.generatedRequest(for: config, items: 2)
        try plan.evaluate(big, into: &reused)
        try plan.evaluate(small, into: &reused)
        var fresh = plan.makeBatch()
        try plan.evaluate(small, into: &fresh)
        for i in 0..<2 { XCTAssertEqual(reused.renderSample(item: i), fresh.renderSample(item: i)) }
    }
}
