import Foundation
import Testing
@testable import Config

/// `datahub_train_input` / `datahub_eval_input` as the product description writes them.
@Suite struct DataHubInputConfigTests {
    static let block = #"""
    datahub_train_input{
      akId:"ID1"
      akSecret:"KEY1"
      region:"http://dh-cn-beijing-int-vpc.aliyuncs.com"
      project:"odl"
      topic:"odl_test"
      offset_info: '{"1": {"cursor": "30006230bed60000000000003e800010"}, "0": {"cursor": "30006230be740000000000001f400000"}}'
    }

    datahub_eval_input{
      akId:"ID1"
      akSecret:"KEY1"
      region:"http://dh-cn-beijing-int-vpc.aliyuncs.com"
      project:"odl"
      topic:"odl_eval"
    }
    """#

    @Test func loadsAndEdits() throws {
        var c = try PipelineConfig.load(text: minimalConfig(extra: Self.block))
        let d = try #require(c.datahubTrainInput)
        #expect(d.akID == "ID1" && d.akSecret == "KEY1" && d.project == "odl" && d.topic == "odl_test")
        #expect(d.region == "http://dh-cn-beijing-int-vpc.aliyuncs.com")
        #expect(try d.startPosition() == .cursors(["0": "30006230be740000000000001f400000", "1": "30006230bed60000000000003e800010"]))
        #expect(c.datahubEvalInput?.topic == "odl_eval")
        #expect(try c.datahubEvalInput?.startPosition() == nil)
        try c.applyEdits(json: #"{"datahub_train_input.offset_info": "{\"timestamp\": 1650765731}", "datahub_train_input.topic": "t2"}"#)
        #expect(try c.datahubTrainInput?.startPosition() == .timestamp(seconds: 1650765731))
        #expect(c.datahubTrainInput?.topic == "t2")
        let again = try PipelineConfig.load(text: c.textFormat())
        #expect(again.proto == c.proto)
    }

    @Test func missingOrBadFieldsAreNamed() throws {
        let noTopic = Self.block.replacingOccurrences(of: #"topic:"odl_test""#, with: "")
        let e = try #require(configError { _ = try PipelineConfig.load(text: minimalConfig(extra: noTopic)) })
        #expect(e.path == "datahub_train_input.topic")
        let badOffset = Self.block.replacingOccurrences(of: #"{"cursor": "30006230bed60000000000003e800010"}"#, with: "5")
        let e2 = try #require(configError { _ = try PipelineConfig.load(text: minimalConfig(extra: badOffset)) })
        #expect(e2.path == "datahub_train_input.offset_info")
        #expect(e2.reason.contains("cursor"))
        #expect(throws: ConfigError.self) { _ = try DataHubStartPosition.parse(offsetInfo: #"{"timestamp": -3}"#) }
        #expect(throws: ConfigError.self) { _ = try DataHubStartPosition.parse(offsetInfo: "[]") }
    }
}
