import XCTest
import Foundation
import Synchronization
import FG
@testable import Inference

/// Readers of a key-value table never see a torn row while a writer inserts new keys (index
/// growth, new row chunks) and overwrites existing ones: every row a message writes holds one
/// value in all of its floats (the message's step), so a row read half-written shows two values.
/// A negative control overwrites rows without the write lock and must see torn rows.
final class KVInsertConcurrencyTests: XCTestCase {
    static let dim = 64

    /// Keys of message `step` (distinct across steps).
    static func insertKey(step: Int, _ j: Int) -> Int64 { Int64(step) << 20 | Int64(j) + 1_000_000_000 }

    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let appliedStep = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        let presentReads = Atomic<Int>(0)
        let torn = Atomic<Int>(0)
        let wrongValue = Atomic<Int>(0)
    }

    func makeStore(initialKeys: Int) throws -> (ModelSpec, ParameterStore, [Int64]) {
        let k = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: Self.dim)
        let spec = try ModelSpec.make(columns: [k], wideFeatures: [], deepFeatures: [0], dnnHidden: [8], finalDnnHidden: nil)
        let keys = (0..<initialKeys).map { Int64($0) * 7919 + 1 }
        guard let table = spec.embeddings.first(where: { $0.rows == nil }) else { throw XCTSkip("no kv table") }
        let params = ModelParameters(
            dense: spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) },
            tables: spec.embeddings.map { e in
                e.id == table.id ? .keyValue(dim: Self.dim, keys: keys, values: [Float](repeating: 0, count: initialKeys * Self.dim))
                    : .fixed(rows: e.rows ?? 1, dim: e.dim, values: [Float](repeating: 0, count: (e.rows ?? 1) * e.dim))
            })
        return (spec, try ParameterStore(spec: spec, parameters: params), keys)
    }

    /// Readers check rows of existing keys and of keys inserted by recent messages.
    func run(seconds: Double, inserts: Bool, unlocked: Bool) throws -> Shared {
        let (spec, store, existing) = try makeStore(initialKeys: inserts ? 256 : 4096)
        guard let table = spec.embeddings.first(where: { $0.rows == nil }) else { throw XCTSkip("no kv table") }
        store.skipWriteLockForTesting = unlocked
        let s = Shared()
        let group = DispatchGroup()
        for r in 0..<2 {
            group.enter()
            Thread {
                var rng = SystemRandomNumberGenerator()
                while !s.stop.load(ordering: .relaxed) {
                    let step = s.appliedStep.load(ordering: .acquiring)
                    let key: Int64
                    var expected: Float? = nil
                    if inserts && r == 0 && step > 0 {
                        // A key of one of the last messages (or the next one, possibly absent).
                        let st = max(1, step - Int.random(in: 0...3, using: &rng) + 1)
                        key = Self.insertKey(step: st, Int.random(in: 0..<1000, using: &rng))
                        expected = st <= step ? Float(st) : nil
                    } else {
                        key = existing[Int.random(in: 0..<existing.count, using: &rng)]
                    }
                    s.reads.add(1, ordering: .relaxed)
                    guard let row = store.row(embeddingId: table.id, key: key) else {
                        if expected != nil { s.wrongValue.add(1, ordering: .relaxed) }  // applied, so it must be there
                        continue
                    }
                    s.presentReads.add(1, ordering: .relaxed)
                    let first = row[0]
                    if row.contains(where: { $0 != first }) {
                        s.torn.add(1, ordering: .relaxed)
                        if unlocked { s.stop.store(true, ordering: .relaxed) }
                    }
                    if let expected, first != expected { s.wrongValue.add(1, ordering: .relaxed) }
                }
                group.leave()
            }.start()
        }
        let deadline = Date().addingTimeInterval(seconds)
        var step = 0
        while Date() < deadline && !s.stop.load(ordering: .relaxed) {
            step += 1
            let v = Float(step)
            var blocks: [SparseUpdate.Block] = []
            if inserts {
                blocks.append(.init(embeddingId: Int32(table.id), keys: (0..<1000).map { Self.insertKey(step: step, $0) },
                                    values: [Float](repeating: v, count: 1000 * Self.dim)))
            }
            blocks.append(.init(embeddingId: Int32(table.id), keys: existing, values: [Float](repeating: v, count: existing.count * Self.dim)))
            let msg = UpdateMessage.sparse(SparseUpdate(globalStep: Int32(step), blocks: blocks))
            let bytes = UpdateCodec.encode(msg)
            try bytes.withUnsafeBytes { raw in
                guard let layout = try UpdateCodec.sparseLayout(raw, spec: spec) else { throw XCTSkip("not sparse") }
                let c = try store.apply(layout, bytes: raw)
                if inserts { XCTAssertEqual(c.rowsInserted, 1000) }
            }
            s.appliedStep.store(step, ordering: .releasing)
        }
        s.stop.store(true, ordering: .relaxed)
        group.wait()
        if inserts { XCTAssertEqual(store.rowCount(embeddingId: table.id), 256 + 1000 * step) }
        return s
    }

    func testReadersNeverSeeTornRowsWhileKeysAreInserted() throws {
        let s = try run(seconds: 2.0, inserts: true, unlocked: false)
        XCTAssertEqual(s.torn.load(ordering: .relaxed), 0)
        XCTAssertEqual(s.wrongValue.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(s.presentReads.load(ordering: .relaxed), 1000)
        print("kv inserts: \(s.reads.load(ordering: .relaxed)) reads, \(s.appliedStep.load(ordering: .relaxed)) messages of 1000 new keys, 0 torn")
    }

    /// Negative control: overwriting rows without the write lock, the same check sees torn rows.
    func testCheckDetectsTornRowsWithoutTheLock() throws {
        let s = try run(seconds: 10.0, inserts: false, unlocked: true)
        XCTAssertGreaterThan(s.torn.load(ordering: .relaxed), 0, "the check must be able to fail")
    }
}
