import Foundation
import Inference
import Testing
@testable import Trainer

@Suite struct UpdateEncodingTests {
    @Test func goldenDenseBytes() {
        let m = DenseUpdate(globalStep: 100, variables: [(0, [1, 2, 3, 4]), (1, [0.5, -1, 2])])
        #expect(hex(UpdateEncoding.encode(m)) ==
            "000000000200000064000000000000000400000001000000030000000000803f0000004000004040000080400000003f000080bf00000040")
    }

    @Test func goldenSparseBytes() {
        let m = SparseUpdate(globalStep: 100, blocks: [.init(embeddingId: 3, keys: [5, 99], values: [0.1, 0.2, 0.3, 0.4])])
        #expect(hex(UpdateEncoding.encode(m)) ==
            "010000000100000064000000030000000200000005000000000000006300000000000000cdcccc3dcdcc4c3e9a99993ecdcccc3e")
    }

    @Test func sparseSplitKeepsEveryRowOnceUnderTheCap() {
        let keys = (0..<1000).map { Int64($0) }
        let values = (0..<4000).map { Float($0) }
        let cap = 4096
        let msgs = UpdateEncoding.sparseMessages(step: 7, tables: [(0, 4, keys, values), (2, 1, [5, 6], [9, 8]), (1, 2, [], [])], maxBytes: cap)
        #expect(msgs.count > 1)
        for m in msgs { #expect(UpdateEncoding.encode(m).count <= cap) }
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
        #expect(UpdateEncoding.encode(msgs[0]).count == 12)
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
