import Foundation
import Testing
@testable import Config
import JSON

/// offset_info / offset_time / dead_line parsing and the JSON reader under them.
@Suite struct OffsetsAndTimeTests {
    @Test func offsetInfoForms() throws {
        #expect(try KafkaStartPosition.parse(offsetInfo: #"{"0": 5, "1": 10}"#) == .partitionOffsets([0: 5, 1: 10]))
        #expect(try KafkaStartPosition.parse(offsetInfo: #" { "3" : "42" } "#) == .partitionOffsets([3: 42]))
        #expect(try KafkaStartPosition.parse(offsetInfo: #"{"timestamp": 1650765731}"#) == .timestamp(seconds: 1650765731))
        #expect(try KafkaStartPosition.parse(offsetInfo: #"{"timestamp": "1650765731"}"#) == .timestamp(seconds: 1650765731))
        #expect(try KafkaStartPosition.parse(offsetInfo: #"{"0": 9007199254740993}"#) == .partitionOffsets([0: 9007199254740993]))
    }

    @Test(arguments: [#"{"0": -1}"#, #"{"x": 1}"#, #"[1, 2]"#, #"{}"#, #"{"0": 1.5}"#, #"{"0": 5"#, "", #"{"timestamp": true}"#])
    func badOffsetInfo(text: String) throws {
        let e = try #require(configError { _ = try KafkaStartPosition.parse(offsetInfo: text) })
        #expect(e.path == "offset_info" && e.kind == .badValue)
    }

    @Test func startPositionPrecedence() throws {
        var k = EasyRec_KafkaServer()
        #expect(try k.startPosition() == nil)
        k.offsetTime = "20220517 20:00:00"
        #expect(try k.startPosition(timeZone: utc) == .timestamp(seconds: 1652817600))
        k.offsetInfo = #"{"0": 1}"#
        #expect(try k.startPosition(timeZone: utc) == .partitionOffsets([0: 1]))
        k.offsetInfo = ""
        k.offsetTime = "yesterday"
        let e = try #require(configError { _ = try k.startPosition() })
        #expect(e.path == "offset_time" && e.reason.contains("yesterday"))
    }

    @Test func dateTimes() throws {
        #expect(ConfigTime.parseDateTime("19700101 00:00:00", timeZone: utc) == 0)
        #expect(ConfigTime.parseDateTime("20220420 23:59:59", timeZone: utc) == 1650499199)
        #expect(ConfigTime.parseDateTime("20240229 12:00:00", timeZone: utc) == 1709208000)
        #expect(ConfigTime.parseDateTime("20230229 12:00:00", timeZone: utc) == nil)
        #expect(ConfigTime.parseDateTime("20220420 24:00:00", timeZone: utc) == nil)
        #expect(ConfigTime.parseDateTime("2022-04-20 10:00:00", timeZone: utc) == nil)
        #expect(ConfigTime.parseDateTime("20220420", timeZone: utc) == nil)
        #expect(ConfigTime.parseDateTime("20220420 1:2:3", timeZone: utc) == 1650416523)
        #expect(ConfigTime.parseTimestamp(" 1650765731 ") == 1650765731)
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        #expect(ConfigTime.parseTimestamp("20220420 09:00:00", timeZone: tokyo) == 1650412800)
    }

    @Test func jsonReader() throws {
        let v = try JSONParser.parse(#" {"a": [1, -2.5e3, true, null, "x\u00e9\n\ud83d\ude00"], "b": {}} "#)
        #expect(v["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .null, .string("xé\n😀")]))
        #expect(v["b"] == .object([]))
        #expect(try JSONParser.parse(v.serialized) == v)
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "tru", "{} x", "\"\u{1}\""] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { _ = try JSONParser.parse(bad) }
        }
    }
}
