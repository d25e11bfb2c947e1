import XCTest
import FG
@testable import Inference

/// Room reserved in a key-value table (``ParameterStore/reserveKeyValueRows(_:)``) takes that
/// many inserts with no new row chunk and no index growth; inserts past it grow the table as
/// before, and every row reads back what was written.
final class KVReserveTests: XCTestCase {
    func testInsertsIntoReservedRoomNeitherAllocateNorRehash() throws {
        let dim = 4
        let k = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: dim)
        let spec = try ModelSpec.make(columns: [k], wideFeatures: [], deepFeatures: [0], dnnHidden: [4], finalDnnHidden: nil)
        guard let e = spec.embeddings.first(where: { $0.rows == nil }) else { throw XCTSkip("no kv table") }
        let params = ModelParameters(
            dense: spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) },
            tables: [.keyValue(dim: dim, keys: [7, 8], values: [Float](repeating: 1, count: 2 * dim))])
        let store = try ParameterStore(spec: spec, parameters: params)
        guard case .keyValue(let table) = store.tables[e.id] else { return XCTFail("not a kv table") }
        let reserve = 200_000
        let bytes = store.reserveKeyValueRows(reserve)
        let chunks = table.chunks.count, index = ObjectIdentifier(table.index)
        XCTAssertGreaterThanOrEqual(chunks * KVTable.chunkRows, reserve)
        XCTAssertGreaterThanOrEqual(bytes, reserve * 4 * dim)
        XCTAssertTrue(table.index.fits(reserve - 1), "the index holds the reserved keys under its load factor")
        func insert(_ keys: Range<Int>) throws {
            for start in stride(from: keys.lowerBound, to: keys.upperBound, by: 1000) {
                let ks = (start..<min(start + 1000, keys.upperBound)).map { Int64($0) * 31 + 100 }
                let counts = try store.apply(.sparse(SparseUpdate(globalStep: 1, blocks: [
                    .init(embeddingId: Int32(e.id), keys: ks, values: ks.flatMap { [Float]($0 % 97, count: dim) })])))
                XCTAssertEqual(counts.rowsInserted, ks.count)
            }
        }
        try insert(0..<(reserve - 2))
        XCTAssertEqual(table.chunks.count, chunks, "no chunk allocated inside the room")
        XCTAssertEqual(ObjectIdentifier(table.index), index, "no index growth inside the room")
        let past = table.index.capacity * 7 / 10 + 1000  // more keys than the reserved index holds
        try insert((reserve - 2)..<past)
        XCTAssertGreaterThan(table.chunks.count, chunks, "past the room the table grows")
        XCTAssertNotEqual(ObjectIdentifier(table.index), index)
        for key in [0, 1, reserve - 3, past - 1].map({ Int64($0) * 31 + 100 }) {
            XCTAssertEqual(store.row(embeddingId: e.id, key: key), [Float](repeating: Float(key % 97), count: dim))
        }
        XCTAssertEqual(store.row(embeddingId: e.id, key: 7), [1, 1, 1, 1])
        XCTAssertEqual(store.rowCount(embeddingId: e.id), 2 + past)
    }
}

private extension Array where Element == Float {
    init(_ value: Int64, count: Int) { self.init(repeating: Float(value), count: count) }
}
