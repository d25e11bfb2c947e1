import Foundation
import Inference
import Testing
@testable import Trainer

@Suite struct UpdateEncodingTests {
    @Test func sparseSplitKeepsEveryRowOnceUnderTheCap() {
        let keys = (0..<1000).map { Int64($0) }
        let values = (0..<4000).map { Float($0) }
        let cap = 4096
        let msgs = UpdateEncoding.sparseMessages(step: 7, tables: [(0, 4, keys, values), (2, 1, [5, 6], [9, 8]), (1, 2, [], [])], maxBytes: cap)
        #expect(msgs.count > 1)
        for m in msgs { #expect(UpdateCodec.encode(.sparse(m)).count <= cap) }
        let all = msgs.flatMap(\.blocks)
        #expect(all.filter { $0.embeddingId == 0 }.flatMap(\.keys) == keys)
        #expect(all.filter { $0.embeddingId == 0 }.flatMap(\.values) == values)
        #expect(all.filter { $0.embeddingId == 2 }.flatMap(\.keys) == [5, 6])
        #expect(!all.contains { $0.embeddingId == 1 })
        #expect(msgs.allSatisfy { $0.globalStep == 7 })
    }

    @Test func emptySparseIsOneMessageWithoutBlocks() {
        let msgs = UpdateEncoding.sparseMessages(step: 1, tables: [], maxBytes: 100)
        #expect(msgs.count == 1 && msgs[0].blocks.isEmpty)
        #expect(UpdateCodec.encode(.sparse(msgs[0])).count == 12)
    }

    @Test func denseSplitByVariable() {
        let msgs = UpdateEncoding.denseMessages(step: 3, ids: [0, 1, 2], values: { Array(repeating: Float($0), count: 10) }, maxBytes: 12 + 2 * 48)
        #expect(msgs.map { $0.variables.map(\.id) } == [[0, 1], [2]])
    }

    @Test func fileSinkWritesMessageThenDone() throws {
        let dir = makeTempDir() + "/incr"
        let sink = try FileUpdateSink(directory: dir)
        try sink.send(key: "dense_update_10", value: [1, 2, 3])
        try sink.send(key: "dense_update_10", value: [4])
        #expect(FileManager.default.contents(atPath: dir + "/dense_update_10") == Data([1, 2, 3]))
        #expect(FileManager.default.fileExists(atPath: dir + "/dense_update_10.done"))
        #expect(FileManager.default.contents(atPath: dir + "/dense_update_10_1") == Data([4]))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!names.contains { $0.hasSuffix(".tmp") })
    }
}
