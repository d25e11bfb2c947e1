import XCTest
@testable import FG

final class RequestJSONTests: XCTestCase {
    func parse(_ s: String, limits: FGLimits = FGLimits()) throws -> FGRequest {
        try FGRequest.parseJSON(Array(s.utf8), limits: limits)
    }

    func testServingAPIExample() throws {
        let r = try parse(#"""
        {"user_features": {"user_id": {"string_feature": "u1"}, "age": {"int_feature": 30}, "big": {"long_feature": "9007199254740993"},
                           "score": {"float_feature": 0.1}, "empty": {}},
         "item_ids": ["i1", "i2"], "debug_level": 3,
         "context_features": {"price": {"features": [{"float_feature": 9.5}, {"float_feature": 3}]},
                              "cat": {"features": [{"long_feature": 7}]}}}
        """#)
        XCTAssertEqual(r.itemIds, ["i1", "i2"])
        XCTAssertEqual(r.debugLevel, 3)
        XCTAssertEqual(r.userFeatures["user_id"], .string("u1"))
        XCTAssertEqual(r.userFeatures["age"], .int(30))
        XCTAssertEqual(r.userFeatures["big"], .int(9007199254740993))
        XCTAssertEqual(r.userFeatures["score"], .float(Double(Float(0.1))))  // a protobuf float
        XCTAssertNil(r.userFeatures["empty"])
        XCTAssertEqual(r.itemFeatures["price"], [.float(9.5), .float(3)])
        XCTAssertEqual(r.itemFeatures["cat"], [.int(7)])
    }

    func testCamelCaseAndSpecialFloats() throws {
        let r = try parse(#"{"userFeatures": {"a": {"floatFeature": "NaN"}, "b": {"stringFeature": "x"}}, "itemIds": ["1"],"#
                          + #""contextFeatures": {"c": {"features": [{"intFeature": -2}]}}, "debugLevel": 1}"#)
        if case .float(let x)? = r.userFeatures["a"] { XCTAssertTrue(x.isNaN) } else { XCTFail("a") }
        XCTAssertEqual(r.itemFeatures["c"], [.int(-2)])
        XCTAssertEqual(r.debugLevel, 1)
        // NaN never becomes an id
        let b = try T.run(#"{"features":[{"feature_type":"id_feature","feature_name":"a","expression":"user:a","hash_bucket_size":3}]}"#, r)
        XCTAssertEqual(b.strings(slot: 0, item: 0), [])
    }

    func testBadRequestsNameTheField() {
        func err(_ s: String, limits: FGLimits = FGLimits()) -> FGError? {
            do { _ = try parse(s, limits: limits); return nil } catch { return error as? FGError }
        }
        XCTAssertEqual(err(#"{"item_ids": "i1"}"#), .invalidRequest(field: "item_ids", reason: "expected an array of strings"))
        XCTAssertEqual(err(#"{"item_ids": ["a", {}]}"#), .invalidRequest(field: "item_ids[1]", reason: "expected a string, got object"))
        XCTAssertEqual(err(#"{"user_features": {"a": {"int_feature": "x"}}}"#),
                       .invalidRequest(field: "user_features.a", reason: "int_feature must be an integer"))
        XCTAssertEqual(err(#"{"user_features": {"a": {"int_feature": 3000000000}}}"#),
                       .invalidRequest(field: "user_features.a", reason: "int_feature out of int32 range"))
        XCTAssertEqual(err(#"{"user_features": {"a": {"string_feature": 5}}}"#),
                       .invalidRequest(field: "user_features.a", reason: "string_feature must be a string"))
        XCTAssertEqual(err(#"{"user_features": {"a": {"bytes_feature": "x"}}}"#),
                       .invalidRequest(field: "user_features.a", reason: "unknown PBFeature field 'bytes_feature'"))
        XCTAssertEqual(err(#"{"user_features": {"a": 5}}"#),
                       .invalidRequest(field: "user_features.a", reason: "expected a PBFeature object, got number"))
        XCTAssertEqual(err(#"{"item_ids": ["a","b","c"], "context_features": {"p": {"features": [{"int_feature": 1}, {"int_feature": 2}]}}}"#),
                       .invalidRequest(field: "context_features.p", reason: "has 2 values for 3 items (expected 1 or 3)"))
        XCTAssertEqual(err(#"{"item_ids": ["a","b"], "context_features": {"p": {"features": [{"int_feature": 1}, {}]}}}"#),
                       .invalidRequest(field: "context_features.p", reason: "a per-item value is empty (every entry needs a value)"))
        XCTAssertEqual(err(#"{"item_ids": ["a","b","c"]}"#, limits: FGLimits(maxItems: 2)),
                       .invalidRequest(field: "item_ids", reason: "3 items exceed the limit of 2"))
        XCTAssertEqual(err(#"{"debug_level": "high"}"#), .invalidRequest(field: "debug_level", reason: "expected a small non-negative integer"))
        XCTAssertEqual(err("[]"), .invalidRequest(field: "(body)", reason: "expected a JSON object"))
        if case .invalidRequest(let f, _)? = err("{\"item_ids\": [") { XCTAssertEqual(f, "(body)") } else { XCTFail("truncated") }
        if case .invalidRequest(let f, _)? = err(String(repeating: "{\"a\":", count: 500)) { XCTAssertEqual(f, "(body)") } else { XCTFail("deep") }
        XCTAssertNotNil(err("\u{0}"))
    }

    func testStringEscapesAndUnicode() throws {
        let r = try parse(#"{"user_features": {"a": {"string_feature": "x\u001dy\n\"\u00e9\ud83d\ude00"}}, "item_ids": []}"#)
        XCTAssertEqual(r.userFeatures["a"], .string("x\u{1d}y\n\"é😀"))
        XCTAssertNotNil(try? parse(#"{"item_ids": []}"#))
        XCTAssertThrowsError(try parse(#"{"user_features": {"a": {"string_feature": "\ud83d"}}}"#))
    }
}
