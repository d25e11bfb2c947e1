import Config
import Foundation
import Testing
@testable import Trainer

@Suite struct StartPositionTests {
    let utc = TimeZone(identifier: "UTC")!

    func noLookup(_ p: Int32, _ t: Int64) throws -> Int64 {
        Issue.record("timestamp lookup not expected")
        return -1
    }

    @Test func offsetInfoPartitionsChooseAndStartThosePartitions() throws {
        let spec = try offsetSpec(info: "{\"0\": 5, \"1\": 10}")
        let starts = try StartPosition.resolve(topicPartitions: [0, 1, 2, 3], checkpoint: nil, fineTune: nil, spec: spec, lookup: noLookup)
        #expect(starts == [PartitionStart(partition: 0, offset: 5, rule: .offsetInfo),
                           PartitionStart(partition: 1, offset: 10, rule: .offsetInfo)])
    }

    @Test func checkpointBeatsEverythingAndFineTuneOnlyWithoutCheckpoint() throws {
        let spec = try offsetSpec(info: "{\"timestamp\": 1650765731}")
        let looked = try StartPosition.resolve(topicPartitions: [0, 1], checkpoint: [0: 7], fineTune: [0: 3, 1: 4], spec: spec) { p, t in
            #expect(t == 1_650_765_731_000)
            return 100 + Int64(p)
        }
        #expect(looked == [PartitionStart(partition: 0, offset: 7, rule: .checkpoint),
                           PartitionStart(partition: 1, offset: 101, rule: .timestamp)])
        let fine = try StartPosition.resolve(topicPartitions: [0, 1], checkpoint: nil, fineTune: [0: 3, 1: 4], spec: spec, lookup: noLookup)
        #expect(fine.map(\.offset) == [3, 4])
        #expect(fine.allSatisfy { $0.rule == .fineTuneCheckpoint })
    }

    @Test func nothingConfiguredStartsAtZero() throws {
        let starts = try StartPosition.resolve(topicPartitions: [1, 0], checkpoint: nil, fineTune: nil, spec: .none, lookup: noLookup)
        #expect(starts == [PartitionStart(partition: 0, offset: 0, rule: .beginning), PartitionStart(partition: 1, offset: 0, rule: .beginning)])
    }

    /// The OffsetSpec of a kafka_train_input with the given offset_info / offset_time (parsed by Config).
    func offsetSpec(info: String? = nil, time: String? = nil) throws -> OffsetSpec {
        var k = EasyRec_KafkaServer()
        if let info { k.offsetInfo = info }
        if let time { k.offsetTime = time }
        return OffsetSpec(try k.startPosition(timeZone: utc))
    }

    @Test func offsetTimeFormats() throws {
        #expect(try offsetSpec(time: "1650765731") == .timestamp(1_650_765_731_000))
        #expect(try offsetSpec(time: "20220517 20:00:00") == .timestamp(1_652_817_600_000))
        #expect(try offsetSpec() == .none)
        #expect(throws: ConfigError.self) { try offsetSpec(time: "yesterday") }
        #expect(throws: ConfigError.self) { try offsetSpec(info: "{\"0\": -1}") }
        #expect(throws: ConfigError.self) { try offsetSpec(info: "[1]") }
    }

    @Test func unknownPartitionInOffsetInfoIsAnError() throws {
        let spec = OffsetSpec.partitions([7: 1])
        #expect(throws: TrainerError.self) {
            try StartPosition.resolve(topicPartitions: [0, 1], checkpoint: nil, fineTune: nil, spec: spec, lookup: noLookup)
        }
    }

    @Test func offsetMapRoundTripAcceptsStrings() throws {
        #expect(try OffsetMap.decode("{\"1\": \"12\", \"0\": 3}", source: "t") == [0: 3, 1: 12])
        #expect(OffsetMap.encode([2: 9, 0: 1]) == "{\"0\": 1, \"2\": 9}")
    }
}
