import XCTest
@testable import FG

final class FGConfigTests: XCTestCase {
    func testEveryCompatFileLoadsAndEvaluates() throws {
        let files = T.compatFiles()
        XCTAssertGreaterThanOrEqual(files.count, 5)
        for path in files {
            let config = try FGConfig.load(path: path)
            XCTAssertGreaterThanOrEqual(config.features.count, 18, path)
            XCTAssertEqual(config.reserves, ["user_id", "campaign_id", "clk"], path)
            XCTAssertEqual(config.multiValueSeparator, "|", path)
            let specs = try config.columnSpecs()
            XCTAssertGreaterThanOrEqual(specs.count, config.features.count, path)
            let plan = FGPlan(config: config)
            var batch = plan.makeBatch()
            let request = T.generatedRequest(for: config, items: 7)
            try plan.evaluate(request, into: &batch)
            XCTAssertEqual(batch.itemCount, 7)
            XCTAssertEqual(batch.names, config.outputNames)
            // every id feature with an input produced something for item 0
            let userId = try XCTUnwrap(batch.slotIndex("user_id"))
            XCTAssertEqual(batch.strings(slot: userId, item: 3), ["user_id_2"], path)  // user value 7 % 5
            let encoder = try ColumnEncoder(specs: specs, layout: plan.outputNames)
            var encoded = EncodedBatch(columnCount: specs.count)
            try encoder.encode(batch, into: &encoded)
            XCTAssertEqual(encoded.batchSize, 7)
            for c in encoded.columns { XCTAssertEqual(c.itemCount, 7) }
        }
    }

    func testSequenceBlockFlattened() throws {
        let config = try FGConfig.load(path: T.compatDir + "/fg_test_extensions.json")
        let seq = config.features.filter { $0.sequence != nil }
        XCTAssertEqual(seq.map(\.name), ["opt_content_long_seq_svid", "opt_content_long_seq_source_type"])
        XCTAssertEqual(seq[0].sequence?.length, 50)
        XCTAssertEqual(seq[0].sequence?.delimiter, ";")
        XCTAssertEqual(seq[0].needPrefix, false)
        XCTAssertEqual(seq[0].defaultValue, "-1024")
        let d = try config.columnDescriptors()
        let svid = try XCTUnwrap(d.first { $0.spec.name == "opt_content_long_seq_svid" })
        XCTAssertEqual(svid.featureType, .sequenceFeature)
        XCTAssertEqual(svid.subFeatureType, .idFeature)
        XCTAssertEqual(svid.spec.kind, .hashed(bucketSize: 100000))
        // extra_combo_info -> pipeline ComboFeature
        let combo = try XCTUnwrap(d.first { $0.spec.name == "combo__occupation_age_level" })
        XCTAssertEqual(combo.featureType, .comboFeature)
        XCTAssertEqual(combo.spec.inputNames, ["occupation", "user_id"])
        XCTAssertEqual(combo.spec.kind, .combo(bucketSize: 10))
        XCTAssertNil(combo.inputField)
        // is_multi -> TagFeature
        XCTAssertEqual(d.first { $0.spec.name == "user_tag_cate" }?.featureType, .tagFeature)
    }

    func testColumnConversionRules() throws {
        let plain = try FGConfig.load(path: T.compatDir + "/fg.json").columnDescriptors()
        let price = try XCTUnwrap(plain.first { $0.spec.name == "price" })
        XCTAssertEqual(price.featureType, .rawFeature)
        XCTAssertEqual(price.spec.kind, .raw(dimension: 1))
        XCTAssertEqual(price.inputType, .double)
        XCTAssertEqual(price.defaultValue, "0.0")
        XCTAssertEqual(plain.first { $0.spec.name == "user_id" }?.spec.kind, .hashed(bucketSize: 100000))
        XCTAssertEqual(plain.first { $0.spec.name == "user_id" }?.spec.combiner, .mean)
        XCTAssertEqual(plain.first { $0.spec.name == "user_id" }?.spec.separator, "\u{03}")
        XCTAssertEqual(plain.first { $0.spec.name == "combo_brand" }?.featureType, .tagFeature)
        XCTAssertEqual(plain.first { $0.spec.name == "user_tag_cate" }?.spec.embeddingDim, 16)
        XCTAssertEqual(plain.first { $0.spec.name == "user_tag_cate" }?.spec.combiner, .sum)
        XCTAssertEqual(plain.first { $0.spec.name == "user_tag_cate" }?.featureType, .idFeature)

        let bucketized = try FGConfig.load(path: T.compatDir + "/fg_bucketize.json").columnDescriptors()
        let bp = try XCTUnwrap(bucketized.first { $0.spec.name == "price" })
        XCTAssertEqual(bp.featureType, .idFeature)
        XCTAssertEqual(bp.spec.kind, .identity(numBuckets: 7))
        XCTAssertEqual(bp.inputType, .int32)

        let v2 = try FGConfig.load(path: T.compatDir + "/fg_bucketize_v2.json").columnDescriptors()
        XCTAssertEqual(v2.first { $0.spec.name == "price" }?.spec.kind, .boundaries([0, 10, 20, 30, 40, 50]))

        let ev = try FGConfig.load(path: T.compatDir + "/fg_ev.json").columnDescriptors()
        XCTAssertEqual(ev.first { $0.spec.name == "user_id" }?.spec.kind, .keyValue)
        XCTAssertEqual(ev.first { $0.spec.name == "cms_segid" }?.spec.kind, .hashed(bucketSize: 100))
    }

    func testTrainingKeysAndDefaults() throws {
        let c = try FGConfig(jsonString: """
        {"features": [
          {"feature_type":"id_feature","feature_name":"a","expression":"user:a","num_buckets":10,"embedding_dimension":8,
           "combiner":"mean","shared_name":"emb_a","group":"g","value_type":"Integer","unknown_key":{"x":1}},
          {"feature_type":"id_feature","feature_name":"b","expression":"item:b","vocab_list":["x","y",3]},
          {"feature_type":"lookup_feature","feature_name":"l","map":"user:m","key":"item:k","hash_bucket_size":5,"needWeighting":true},
          {"feature_type":"overlap_feature","feature_name":"o","query":"user:q","title":"item:t","method":"common_word_divided","hash_bucket_size":9},
          {"feature_type":"raw_feature","feature_name":"r","expression":"item:r","value_dimension":3,"embedding_dim":4}
        ], "embedding_dim": 12}
        """)
        let a = c.features[0]
        XCTAssertEqual(a.training.numBuckets, 10)
        XCTAssertEqual(a.training.embeddingDim, 8)
        XCTAssertEqual(a.training.sharedName, "emb_a")
        XCTAssertEqual(a.training.group, "g")
        XCTAssertEqual(a.training.valueType, "Integer")
        XCTAssertTrue(a.needPrefix)
        XCTAssertEqual(c.features[1].training.embeddingDim, 12)  // file-level default
        XCTAssertEqual(c.features[1].training.combiner, "sum")
        XCTAssertEqual(c.features[1].training.isMulti, false)
        let d = try c.columnDescriptors()
        XCTAssertEqual(d[0].spec.kind, .identity(numBuckets: 10))
        XCTAssertEqual(d[0].spec.embeddingName, "emb_a")
        XCTAssertEqual(d[0].spec.combiner, .mean)
        XCTAssertEqual(d[1].spec.kind, .vocabulary(["x", "y", "3"]))
        XCTAssertEqual(d[2].spec.kvSeparator, ":")
        XCTAssertEqual(d[2].featureType, .tagFeature)
        XCTAssertEqual(d[3].featureType, .tagFeature)
        XCTAssertEqual(d[4].spec.kind, .raw(dimension: 3))
        XCTAssertEqual(d[4].rawInputDim, 3)
        XCTAssertEqual(d[4].inputType, .string)
    }

    func testMalformedConfigsGiveNamedErrors() {
        func err(_ json: String) -> FGError? {
            do { _ = try FGConfig(jsonString: json).columnSpecs(); return nil } catch { return error }
        }
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","expression":"user:a"}]}"#),
                       .missingField(feature: "a", field: "feature_type"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"magic_feature","expression":"user:a"}]}"#),
                       .unknownFeatureType(feature: "a", type: "magic_feature"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"usr:a"}]}"#),
                       .malformedExpression(feature: "a", field: "expression", expression: "usr:a"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"user"}]}"#),
                       .malformedExpression(feature: "a", field: "expression", expression: "user"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"user:"}]}"#),
                       .malformedExpression(feature: "a", field: "expression", expression: "user:"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature"}]}"#),
                       .missingField(feature: "a", field: "expression"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"l","feature_type":"lookup_feature","key":"item:k","hash_bucket_size":3}]}"#),
                       .missingField(feature: "l", field: "map"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"m","feature_type":"match_feature","user":"user:u","item":"item:i"}]}"#),
                       .missingField(feature: "m", field: "category"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"c","feature_type":"combo_feature","expression":["user:a","bad"]}]}"#),
                       .malformedExpression(feature: "c", field: "expression", expression: "bad"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"user:a"}]}"#),
                       .missingField(feature: "a", field: "hash_bucket_size"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"user:a","hash_bucket_size":"x"}]}"#),
                       .invalidField(feature: "a", field: "hash_bucket_size", reason: "expected an integer, got string"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"user:a","hash_bucket_size":0}]}"#),
                       .invalidField(feature: "a", field: "hash_bucket_size", reason: "must be positive, got 0"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"r","feature_type":"raw_feature","expression":"item:r","bucketize_boundaries":"3,2"}]}"#),
                       .invalidField(feature: "r", field: "bucketize_boundaries", reason: "must be strictly ascending"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"r","feature_type":"raw_feature","expression":"item:r","normalizer":"method=minmax,min=1"}]}"#),
                       .invalidField(feature: "r", field: "normalizer", reason: "minmax needs 'max'"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"r","feature_type":"raw_feature","expression":"item:r","normalizer":"method=cube"}]}"#),
                       .invalidField(feature: "r", field: "normalizer", reason: "unknown method 'cube'"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"o","feature_type":"overlap_feature","query":"user:q","title":"item:t","method":"fuzzy"}]}"#),
                       .invalidField(feature: "o", field: "method", reason: "unknown overlap method 'fuzzy'"))
        XCTAssertEqual(err(#"{"features":[{"sequence_name":"s","sequence_column":"s","features":[]}]}"#),
                       .missingField(feature: "s", field: "sequence_length"))
        XCTAssertEqual(err(#"{"features":[{"feature_type":"id_feature","expression":"user:a"}]}"#),
                       .missingField(feature: "#0", field: "feature_name"))
        XCTAssertEqual(err(#"{"reserves":[]}"#), .missingField(feature: "", field: "features"))
        XCTAssertEqual(err(#"{"features":{}}"#), .invalidField(feature: "", field: "features", reason: "expected an array"))
        XCTAssertEqual(err(#"{"features":[{"feature_name":"a","feature_type":"id_feature","expression":"user:a","hash_bucket_size":3},{"feature_name":"a","feature_type":"id_feature","expression":"user:b","hash_bucket_size":3}]}"#),
                       .duplicateFeature("a"))
        if case .invalidJSON(_, let offset, _)? = err(#"{"features": [}"#) { XCTAssertEqual(offset, 14) } else { XCTFail("expected invalidJSON") }
        XCTAssertNotNil(err(""))
        XCTAssertNotNil(err("[1, 2"))
        XCTAssertNotNil(err(String(repeating: "[", count: 10_000)))  // depth limit, no stack overflow
        XCTAssertEqual(FGError.missingField(feature: "a", field: "map").description, "feature 'a': missing required key 'map'")
    }

    func testLoadMissingFileIsAnIOError() {
        XCTAssertThrowsError(try FGConfig.load(path: "/nonexistent/fg.json")) { e in
            XCTAssertEqual(e as? FGError, .io(path: "/nonexistent/fg.json", reason: "cannot read file"))
        }
    }
}
