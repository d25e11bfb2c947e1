import XCTest
import FG
@testable import Inference

/// A tiny hand-built spec whose ids match the golden messages of formats.md 1.4.
func goldenSpec() -> ModelSpec {
    let col = FeatureColumnSpec(name: "f", inputNames: ["f"], kind: .hashed(bucketSize: 100), embeddingDim: 2)
    let kv = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: 2)
    return ModelSpec(columns: [col, kv], wideFeatures: [], deepFeatures: [0, 1],
                     embeddings: [EmbeddingSpec(id: 0, name: "input_layer_1/a", dim: 4, rows: 10, part: .deep, column: 0),
                                  EmbeddingSpec(id: 1, name: "input_layer_1/b", dim: 1, rows: 10, part: .deep, column: 0),
                                  EmbeddingSpec(id: 2, name: "input_layer_1/k_embedding", dim: 3, rows: nil, part: .deep, column: 1),
                                  EmbeddingSpec(id: 3, name: "input_layer_1/f_embedding", dim: 2, rows: 100, part: .deep, column: 0)],
                     denseVariables: [DenseVariableSpec(id: 0, name: "v0", shape: [2, 2]),
                                      DenseVariableSpec(id: 1, name: "v1", shape: [3])],
                     wideOutputDim: 1, embeddingDim: 2, dnnHidden: [], finalDnnHidden: nil)
}

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
    return out
}

final class UpdateCodecTests: XCTestCase {
    let denseHex = "000000000200000064000000000000000400000001000000030000000000803f0000004000004040000080400000003f000080bf00000040"
    let sparseHex = "010000000100000064000000030000000200000005000000000000006300000000000000cdcccc3dcdcc4c3e9a99993ecdcccc3e"

    func testGoldenDense() throws {
        let bytes = hex(denseHex)
        let m = try UpdateCodec.decode(bytes, spec: goldenSpec())
        XCTAssertEqual(m, .dense(DenseUpdate(globalStep: 100, variables: [(0, [1, 2, 3, 4]), (1, [0.5, -1, 2])])))
        XCTAssertEqual(UpdateCodec.encode(m), bytes)
        XCTAssertEqual(UpdateCodec.kafkaKey(for: m), "dense_update_100")
    }

    func testGoldenSparse() throws {
        let bytes = hex(sparseHex)
        let m = try UpdateCodec.decode(bytes, spec: goldenSpec())
        XCTAssertEqual(m, .sparse(SparseUpdate(globalStep: 100, blocks: [.init(embeddingId: 3, keys: [5, 99], values: [0.1, 0.2, 0.3, 0.4])])))
        XCTAssertEqual(UpdateCodec.encode(m), bytes)
        XCTAssertEqual(UpdateCodec.kafkaKey(for: m), "sparse_update_100")
        // Built from values, the encoder produces the golden bytes.
        XCTAssertEqual(UpdateCodec.encode(.sparse(SparseUpdate(globalStep: 100, blocks: [.init(embeddingId: 3, keys: [5, 99], values: [0.1, 0.2, 0.3, 0.4])]))), bytes)
    }

    func testInt32KeysDetectedBySize() throws {
        let m = UpdateMessage.sparse(SparseUpdate(globalStep: 7, blocks: [.init(embeddingId: 3, keys: [5, 99], values: [1, 2, 3, 4])], keyBytes: 4))
        let bytes = UpdateCodec.encode(m)
        XCTAssertEqual(bytes.count, 12 + 8 + 2 * (4 + 8))
        let d = try UpdateCodec.decode(bytes, spec: goldenSpec())
        XCTAssertEqual(d, m)
        guard case .sparse(let s) = d else { return XCTFail() }
        XCTAssertEqual(s.keyBytes, 4)
    }

    func expectReject(_ bytes: [UInt8], _ expected: UpdateError, options: UpdateOptions = .init(), line: UInt = #line) {
        XCTAssertThrowsError(try UpdateCodec.decode(bytes, spec: goldenSpec(), options: options), line: line) {
            XCTAssertEqual($0 as? UpdateError, expected, line: line)
        }
    }

    func testRejections() {
        let dense = hex(denseHex), sparse = hex(sparseHex)
        expectReject(Array(dense.prefix(8)), .truncatedHeader(needed: 12, got: 8))
        expectReject(Array(dense.prefix(20)), .truncatedHeader(needed: 28, got: 20))
        expectReject(Array(dense.dropLast()), .truncatedBody(needed: 56, got: 55))
        expectReject(dense + [0], .trailingBytes(expected: 56, got: 57))
        var k = dense; k[0] = 2
        expectReject(k, .badKind(2))
        var n = dense; n[4] = 0xff; n[5] = 0xff; n[6] = 0xff; n[7] = 0xff
        expectReject(n, .badCount(-1, max: 1 << 20))
        var big = dense; big[7] = 0x7f
        expectReject(big, .badCount(Int32(bitPattern: 0x7f00_0002), max: 1 << 20))
        var v = dense; v[12] = 9
        expectReject(v, .unknownVariable(id: 9))
        var ne = dense; ne[16] = 5
        expectReject(ne, .elementCountMismatch(variable: "v0", expected: 4, got: 5))
        var e = sparse; e[12] = 7
        expectReject(e, .unknownEmbedding(id: 7))
        var key = sparse; key[28] = 100   // key 5 -> 100, table has 100 rows
        expectReject(key, .keyOutOfRange(embedding: "input_layer_1/f_embedding", key: 100, rows: 100))
        var neg = sparse; neg[28...35] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        expectReject(neg, .keyOutOfRange(embedding: "input_layer_1/f_embedding", key: -1, rows: 100))
        expectReject(sparse + [0, 0], .keyWidthMismatch(bodyBytes: 34, withInt64Keys: 32, withInt32Keys: 24))
        var nk = sparse; nk[16...19] = [0xff, 0xff, 0xff, 0xff]
        expectReject(nk, .badBlock(embedding: "input_layer_1/f_embedding", reason: "num_keys -1 is negative"))
        // NaN / Inf rejected by default, accepted when allowed.
        var nan = dense; nan[28...31] = [0x00, 0x00, 0xc0, 0x7f]
        expectReject(nan, .nonFinite(parameter: "v0", index: 0))
        XCTAssertNoThrow(try UpdateCodec.decode(nan, spec: goldenSpec(), options: UpdateOptions(allowNonFinite: true)))
        var inf = sparse; inf[36...39] = [0x00, 0x00, 0x80, 0xff]
        expectReject(inf, .nonFinite(parameter: "input_layer_1/f_embedding", index: 0))
        expectReject([], .truncatedHeader(needed: 12, got: 0))
    }

    func testEmptyMessagesAndKeys() throws {
        let m = UpdateMessage.dense(DenseUpdate(globalStep: 3, variables: []))
        XCTAssertEqual(try UpdateCodec.decode(UpdateCodec.encode(m), spec: goldenSpec()), m)
        let s = UpdateMessage.sparse(SparseUpdate(globalStep: 4, blocks: []))
        XCTAssertEqual(try UpdateCodec.decode(UpdateCodec.encode(s), spec: goldenSpec()), s)
        XCTAssertEqual(UpdateCodec.parseKafkaKey("dense_update_12")?.step, 12)
        XCTAssertEqual(UpdateCodec.parseKafkaKey("sparse_update_7")?.kind, .sparse)
        XCTAssertNil(UpdateCodec.parseKafkaKey("sparse_update_"))
        XCTAssertNil(UpdateCodec.parseKafkaKey("dense_update_1x"))
        XCTAssertNil(UpdateCodec.parseKafkaKey("other"))
    }

    func testValidateHandBuiltMessages() {
        let spec = goldenSpec()
        XCTAssertThrowsError(try UpdateCodec.validate(.dense(DenseUpdate(globalStep: 1, variables: [(1, [1, 2])])), spec: spec))
        XCTAssertThrowsError(try UpdateCodec.validate(.sparse(SparseUpdate(globalStep: 1, blocks: [.init(embeddingId: 2, keys: [1], values: [1, 2])])), spec: spec))
        XCTAssertNoThrow(try UpdateCodec.validate(.sparse(SparseUpdate(globalStep: 1, blocks: [.init(embeddingId: 2, keys: [1 << 50], values: [1, 2, 3])])), spec: spec))
    }
}
