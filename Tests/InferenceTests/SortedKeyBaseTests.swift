import XCTest
import ArrayIO
import FG
@testable import Export
@testable import Inference

/// A key-value table served from read-only maps of its sorted files (``SortedKeyBase``) answers
/// exactly as the same table loaded into memory with a hash index: lookups, predictions bit for
/// bit, updates of base keys (shadowing rows), inserts, and after its pages are released.
final class SortedKeyBaseTests: XCTestCase {
    let dim = 8

    func model(rows: Int, shuffled: Bool = true) throws -> (ModelSpec, ModelParameters, [Int64]) {
        let u = FeatureColumnSpec(name: "u", inputNames: ["u"], kind: .hashed(bucketSize: 16), embeddingDim: dim)
        let k = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: dim)
        let spec = try ModelSpec.make(columns: [u, k], wideFeatures: [0], deepFeatures: [0, 1], dnnHidden: [8], finalDnnHidden: nil)
        var keys = (0..<rows).map { Int64($0) * 104_729 - 5_000_000 }  // negative and positive keys
        if shuffled { keys.reverse(); keys.swapAt(0, rows / 2) }
        var g = SystemRandomNumberGenerator()
        let tables: [EmbeddingTableValues] = spec.embeddings.map { e in
            if let r = e.rows { return .fixed(rows: r, dim: e.dim, values: (0..<(r * e.dim)).map { _ in Float.random(in: -0.1...0.1, using: &g) }) }
            return .keyValue(dim: e.dim, keys: keys, values: (0..<(rows * e.dim)).map { _ in Float.random(in: -0.1...0.1, using: &g) })
        }
        let dense = spec.denseVariables.map { v in
            (0..<v.elementCount).map { _ in v.name.hasSuffix("moving_variance") ? Float.random(in: 0.5...1.5, using: &g) : Float.random(in: -0.3...0.3, using: &g) }
        }
        return (spec, ModelParameters(dense: dense, tables: tables), keys)
    }

    func kvId(_ spec: ModelSpec) throws -> Int {
        guard let e = spec.embeddings.first(where: { $0.rows == nil }) else { throw XCTSkip("no kv table") }
        return e.id
    }

    /// `--embedding-dtype bf16` leaves a sorted, mapped table f32 (a map of the f32 file; its
    /// update rows stay f32 too) and rounds the other tables.
    func testSortedBaseStaysF32UnderBF16() throws {
        let rows = 3000
        let (spec, params, keys) = try model(rows: rows, shuffled: false)
        let t = TempDir()
        let v = t.path + "/export/1"
        try ExportWriter.write(versionDir: v, spec: spec, parameters: params, pipelineConfig: "model_config {}\n")
        let kv = try kvId(spec)
        let f32 = try ExportReader.loadStore(v, spec: spec, sortedKVMinRows: 0)
        let bf16 = try ExportReader.loadStore(v, spec: spec, sortedKVMinRows: 0, embeddingDType: .bf16)
        XCTAssertTrue(bf16.hasSortedBase)
        XCTAssertEqual(bf16.embeddingDType, .bf16)
        XCTAssertEqual(bf16.tableDType(embeddingId: kv), .f32)
        XCTAssertTrue(bf16.isMemoryMapped(embeddingId: kv))
        for key in keys.prefix(50) { XCTAssertEqual(bf16.row(embeddingId: kv, key: key), f32.row(embeddingId: kv, key: key)) }
        for e in spec.embeddings where e.rows != nil {
            XCTAssertEqual(bf16.tableDType(embeddingId: e.id), .bf16)
            XCTAssertEqual(bf16.row(embeddingId: e.id, key: 3), f32.row(embeddingId: e.id, key: 3)?.map(BF16.rounded))
        }
        let update = UpdateMessage.sparse(.init(globalStep: 1, blocks: [.init(embeddingId: Int32(kv), keys: [keys[5], 77],
                                                                          values: (0..<(2 * dim)).map { Float($0) * 0.1 + 0.01 })]))
        try f32.apply(update)
        try bf16.apply(update)
        XCTAssertEqual(bf16.row(embeddingId: kv, key: keys[5]), f32.row(embeddingId: kv, key: keys[5]))
        XCTAssertEqual(bf16.row(embeddingId: kv, key: 77), (dim..<(2 * dim)).map { Float($0) * 0.1 + 0.01 })
    }

    func testSortedBaseMatchesTheHashedTable() throws {
        let rows = 5000
        let (spec, params, keys) = try model(rows: rows, shuffled: false)
        let t = TempDir()
        let v = t.path + "/export/1"
        try ExportWriter.write(versionDir: v, spec: spec, parameters: params, pipelineConfig: "model_config {}\n")
        let kv = try kvId(spec)
        let mapped = try ExportReader.loadStore(v, spec: spec, sortedKVMinRows: 0)
        let hashed = try ExportReader.loadStore(v, spec: spec)   // 5000 rows: below the default, hash index
        XCTAssertTrue(mapped.hasSortedBase)
        XCTAssertFalse(hashed.hasSortedBase)
        for key in keys.prefix(500) + [keys[rows - 1], Int64.min, Int64.max, 12_345] {
            XCTAssertEqual(mapped.row(embeddingId: kv, key: key), hashed.row(embeddingId: kv, key: key), "key \(key)")
        }
        XCTAssertEqual(mapped.rowCount(embeddingId: kv), rows)

        // Same predictions, bit for bit, before and after updates, and after releasing the pages.
        var batch = EncodedBatch(columnCount: 2)
        for i in 0..<300 {
            batch.columns[0].append(id: Int64(i % 16)); batch.columns[0].endItem()
            batch.columns[1].append(id: i % 7 == 0 ? 999_999_999 : keys[(i * 37) % rows]); batch.columns[1].endItem()
        }
        batch.batchSize = 300
        let predictor = try DeepFMPredictor(spec: spec)
        func probs(_ s: ParameterStore) throws -> [Float] {
            var scratch = PredictScratch(); var l: [Float] = [], p: [Float] = []
            try predictor.predict(batch: batch, store: s, scratch: &scratch, logits: &l, probs: &p)
            return p
        }
        XCTAssertEqual(try probs(mapped), try probs(hashed))
        XCTAssertFalse(try probs(mapped).contains { !$0.isFinite })
        // With a memory budget each batch drops the pages it touched: same scores, twice.
        let dropping = try ExportReader.loadStore(v, spec: spec, sortedKVMinRows: 0, releaseMappedAfterUse: true)
        XCTAssertEqual(try probs(dropping), try probs(hashed))
        XCTAssertEqual(try probs(dropping), try probs(hashed))
        let update = UpdateMessage.sparse(SparseUpdate(globalStep: 1, blocks: [
            .init(embeddingId: Int32(kv), keys: [keys[37], keys[74], 777_777_777, keys[37]],
                  values: (0..<(4 * dim)).map { Float($0) / 100 }),
        ]))
        for s in [mapped, hashed] {
            let c = try s.apply(update)
            XCTAssertEqual(c.rowsInserted, 1, "one new key")
            XCTAssertEqual(c.rowsUpdated, 3)
        }
        XCTAssertEqual(mapped.row(embeddingId: kv, key: keys[37]), (24..<32).map { Float($0) / 100 }, "the key's last row wins")
        XCTAssertEqual(mapped.row(embeddingId: kv, key: 777_777_777), hashed.row(embeddingId: kv, key: 777_777_777))
        XCTAssertEqual(mapped.rowCount(embeddingId: kv), rows + 1)
        XCTAssertEqual(try probs(mapped), try probs(hashed))
        XCTAssertGreaterThan(mapped.releaseMappedPages(), rows * dim * 4)
        XCTAssertEqual(try probs(mapped), try probs(hashed), "released pages read back the same")
        // The snapshot holds every live row once.
        let snap = mapped.snapshotParameters()
        guard case .keyValue(_, let sk, let sv) = snap.tables[kv] else { return XCTFail("not kv") }
        XCTAssertEqual(Set(sk), Set(keys + [777_777_777]))
        XCTAssertEqual(sk.count, rows + 1)
        XCTAssertEqual(sv.count, (rows + 1) * dim)
        // Two sorted loads given the same updates agree on the checksum; a different update changes it.
        let again = try ExportReader.loadStore(v, spec: spec, sortedKVMinRows: 0)
        try again.apply(update)
        XCTAssertEqual(again.checksum(), mapped.checksum())
        try again.apply(.sparse(SparseUpdate(globalStep: 2, blocks: [.init(embeddingId: Int32(kv), keys: [keys[5]], values: [Float](repeating: 1, count: dim))])))
        XCTAssertNotEqual(again.checksum(), mapped.checksum())
    }

    func testUnsortedKeysFallBackToTheHashIndex() throws {
        let (spec, params, _) = try model(rows: 300)
        let t = TempDir()
        let v = t.path + "/export/1"
        try ExportWriter.write(versionDir: v, spec: spec, parameters: params, pipelineConfig: "model_config {}\n")
        let kv = try kvId(spec)
        // Rewrite the keys file out of order (as another exporter might): served, but through the hash index.
        let path = v + "/embeddings/\(kv).keys.npy"
        var keys = try Npy.readInt64s(path: path).values
        let values = try Npy.readFloats(path: v + "/embeddings/\(kv).values.npy").values
        keys.swapAt(3, 200)
        try Npy.write(keys, shape: [keys.count], to: path)
        let store = try ExportReader.loadStore(v, spec: spec, sortedKVMinRows: 0)
        XCTAssertFalse(store.hasSortedBase)
        XCTAssertEqual(store.row(embeddingId: kv, key: keys[3]), Array(values[(3 * dim)..<(4 * dim)]))
    }

    func testExporterSortsRowsStably() {
        let (k, v) = ExportWriter.sortedByKey(keys: [5, -2, 5, 3], values: [1, 1, 2, 2, 3, 3, 4, 4], dim: 2)
        XCTAssertEqual(k, [-2, 3, 5, 5])
        XCTAssertEqual(v, [2, 2, 4, 4, 1, 1, 3, 3], "rows follow their keys; of a repeated key the last row stays last")
        let (k2, v2) = ExportWriter.sortedByKey(keys: [1, 2], values: [9, 8], dim: 1)
        XCTAssertEqual(k2, [1, 2]); XCTAssertEqual(v2, [9, 8])
    }

    func testReleaseWindowsStayInsideTheirMapping() throws {
        let t = TempDir()
        let path = t.path + "/v.npy"
        let values = (0..<30_000).map { Float($0) }  // 120 kB of data: windows at both ends get clipped
        try Npy.write(values, shape: [values.count], to: path)
        let map = try ReadOnlyMap(npy: path, dtype: .float32)
        let mapStart = Int(bitPattern: map.data) - map.header.dataOffset
        let mapEnd = mapStart + map.header.dataOffset + map.byteCount
        var windows: [MappedWindow] = []
        for offset in [0, 4, 70_000, map.byteCount - 1] {
            let w = map.window(around: offset, size: SortedKeyBase.faultWindow)
            XCTAssertGreaterThanOrEqual(w.start, mapStart, "a window never starts before its mapping")
            XCTAssertLessThanOrEqual(w.end, (mapEnd + ReadOnlyMap.pageSize - 1) / ReadOnlyMap.pageSize * ReadOnlyMap.pageSize)
            XCTAssertTrue(w.start <= Int(bitPattern: map.data) + offset && Int(bitPattern: map.data) + offset < w.end)
            windows.append(w)
        }
        windows.append(windows[0])
        MappedWindow.release(&windows)
        XCTAssertTrue(windows.isEmpty)
        let p = map.data.assumingMemoryBound(to: Float.self)
        XCTAssertEqual((0..<values.count).map { p[$0] }, values, "released pages read back from the file")
    }
}
