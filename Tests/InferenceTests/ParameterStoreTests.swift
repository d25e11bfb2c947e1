import XCTest
import FG
@testable import Inference

final class ParameterStoreTests: XCTestCase {
    func zeroParams(_ spec: ModelSpec) -> ModelParameters {
        ModelParameters(dense: spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) },
                        tables: spec.embeddings.map { e in
                            e.rows.map { .fixed(rows: $0, dim: e.dim, values: [Float](repeating: 0, count: $0 * e.dim)) }
                                ?? .keyValue(dim: e.dim, keys: [], values: [])
                        })
    }

    func testApplyDenseAndSparse() throws {
        let spec = goldenSpec()
        let store = try ParameterStore(spec: spec, parameters: zeroParams(spec))
        let c0 = store.checksum()
        var counts = try store.apply(.dense(DenseUpdate(globalStep: 1, variables: [(1, [1, 2, 3])])))
        XCTAssertEqual(counts, ApplyCounts(variables: 1))
        XCTAssertEqual(store.denseValues(id: 1), [1, 2, 3])
        XCTAssertEqual(store.denseValues(named: "v1"), [1, 2, 3])
        XCTAssertNil(store.denseValues(named: "nope"))
        XCTAssertNotEqual(store.checksum(), c0)
        counts = try store.apply(.sparse(SparseUpdate(globalStep: 2, blocks: [
            .init(embeddingId: 3, keys: [5, 99], values: [1, 2, 3, 4]),
            .init(embeddingId: 2, keys: [42, 1 << 40, 42], values: [1, 1, 1, 2, 2, 2, 3, 3, 3]),
        ])))
        XCTAssertEqual(counts, ApplyCounts(variables: 0, rowsUpdated: 3, rowsInserted: 2))
        XCTAssertEqual(store.row(embeddingId: 3, key: 99), [3, 4])
        XCTAssertEqual(store.row(embeddingId: 2, key: 42), [3, 3, 3])   // last write wins
        XCTAssertEqual(store.row(embeddingId: 2, key: 1 << 40), [2, 2, 2])
        XCTAssertNil(store.row(embeddingId: 2, key: 7))
        XCTAssertNil(store.row(embeddingId: 3, key: 100))
        XCTAssertEqual(store.rowCount(embeddingId: 2), 2)
        // A rejected message changes nothing.
        let before = store.checksum()
        XCTAssertThrowsError(try store.apply(.sparse(SparseUpdate(globalStep: 3, blocks: [
            .init(embeddingId: 3, keys: [1], values: [9, 9]), .init(embeddingId: 3, keys: [100], values: [9, 9]),
        ]))))
        XCTAssertThrowsError(try store.apply(.dense(DenseUpdate(globalStep: 3, variables: [(0, [1, 1, 1, 1]), (1, [.nan, 0, 0])]))))
        XCTAssertEqual(store.checksum(), before)
        XCTAssertEqual(store.row(embeddingId: 3, key: 1), [0, 0])
    }

    func testKeyValueGrowthAndOrderIndependentChecksum() throws {
        let spec = goldenSpec()
        let a = try ParameterStore(spec: spec, parameters: zeroParams(spec))
        let b = try ParameterStore(spec: spec, parameters: zeroParams(spec))
        var rng = SplitMix(1)
        var keys: [Int64] = (0..<150_000).map { _ in Int64(bitPattern: rng.next()) }
        keys = Array(Set(keys))
        let values = keys.map { Float($0 & 0xffff) }
        // a: one big message (grows the index and adds chunks beyond the first 65536 rows);
        // b: many small messages in reverse order.
        var vals3: [Float] = []
        for v in values { vals3 += [v, v + 1, v + 2] }
        let counts = try a.apply(.sparse(SparseUpdate(globalStep: 1, blocks: [.init(embeddingId: 2, keys: keys, values: vals3)])))
        XCTAssertEqual(counts.rowsInserted, keys.count)
        for chunk in stride(from: keys.count, to: 0, by: -1000) {
            let lo = max(0, chunk - 1000)
            try b.apply(.sparse(SparseUpdate(globalStep: 1, blocks: [.init(embeddingId: 2, keys: Array(keys[lo..<chunk]),
                                                                                  values: Array(vals3[(lo * 3)..<(chunk * 3)]))])))
        }
        XCTAssertEqual(a.rowCount(embeddingId: 2), keys.count)
        XCTAssertEqual(a.checksum(), b.checksum())
        for i in stride(from: 0, to: keys.count, by: 997) {
            XCTAssertEqual(a.row(embeddingId: 2, key: keys[i]), [values[i], values[i] + 1, values[i] + 2])
            XCTAssertEqual(b.row(embeddingId: 2, key: keys[i]), [values[i], values[i] + 1, values[i] + 2])
        }
        // Snapshot round trip into a fresh store preserves the checksum.
        let c = try ParameterStore(spec: spec, parameters: a.snapshotParameters())
        XCTAssertEqual(c.checksum(), a.checksum())
        // A changed row changes the checksum.
        try b.apply(.sparse(SparseUpdate(globalStep: 2, blocks: [.init(embeddingId: 2, keys: [keys[0]], values: [0, 0, 0])])))
        XCTAssertNotEqual(a.checksum(), b.checksum())
    }

    func testParametersMustFitSpec() {
        let spec = goldenSpec()
        var p = zeroParams(spec)
        p.dense[0] = [1]
        XCTAssertThrowsError(try ParameterStore(spec: spec, parameters: p)) {
            XCTAssertEqual($0 as? ParameterStoreError, .denseSize(variable: "v0", expected: 4, got: 1))
        }
        p = zeroParams(spec)
        p.tables[2] = .fixed(rows: 1, dim: 3, values: [0, 0, 0])
        XCTAssertThrowsError(try ParameterStore(spec: spec, parameters: p))
        p = zeroParams(spec)
        p.tables.removeLast()
        XCTAssertThrowsError(try ParameterStore(spec: spec, parameters: p))
    }
}
