import XCTest
import Foundation
import Synchronization
import FG
@testable import Inference

/// Counters shared by the test's threads.
final class Counters: Sendable {
    let stop = Atomic<Bool>(false)
    let gathers = Atomic<Int>(0)
    let mixes = Atomic<Int>(0)
    let predictions = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let applied = Atomic<Int>(0)
}

/// Predictions running on several threads while messages are applied never observe part of a
/// message: every sparse message sets ALL rows of all three tables to its step, every dense
/// message sets whole variables to its step, so any mix of two steps within one gathered
/// batch (or within one dense snapshot) is detected. A negative control applies rows without
/// the write lock and must detect mixes, showing the check can fail.
final class ConcurrencyTests: XCTestCase {
    func makeModel() throws -> (ModelSpec, ParameterStore, EncodedBatch) {
        let f = FeatureColumnSpec(name: "f", inputNames: ["f"], kind: .hashed(bucketSize: 512), embeddingDim: 8)
        let k = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: 8)
        let spec = try ModelSpec.make(columns: [f, k], wideFeatures: [0], deepFeatures: [0, 1], dnnHidden: [8], finalDnnHidden: nil)
        let keys = (0..<256).map { Int64($0) * 7919 + 1 }
        let params = ModelParameters(
            dense: spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) },
            tables: [.fixed(rows: 512, dim: 1, values: [Float](repeating: 0, count: 512)),
                     .fixed(rows: 512, dim: 8, values: [Float](repeating: 0, count: 4096)),
                     .keyValue(dim: 8, keys: keys, values: [Float](repeating: 0, count: 256 * 8))])
        let store = try ParameterStore(spec: spec, parameters: params)
        var batch = EncodedBatch(columnCount: 2)
        for i in 0..<512 {
            batch.columns[0].append(id: Int64(i)); batch.columns[0].endItem()
            batch.columns[1].append(id: keys[i % 256]); batch.columns[1].endItem()
        }
        batch.batchSize = 512
        return (spec, store, batch)
    }

    func messages(step: Int32, spec: ModelSpec) -> (UpdateMessage, UpdateMessage) {
        let v = Float(step)
        let keys = (0..<256).map { Int64($0) * 7919 + 1 }
        let sparse = UpdateMessage.sparse(SparseUpdate(globalStep: step, blocks: [
            .init(embeddingId: 0, keys: (0..<512).map { Int64($0) }, values: [Float](repeating: v, count: 512)),
            .init(embeddingId: 1, keys: (0..<512).map { Int64($0) }, values: [Float](repeating: v, count: 4096)),
            .init(embeddingId: 2, keys: keys, values: [Float](repeating: v, count: 2048)),
        ]))
        let dense = UpdateMessage.dense(DenseUpdate(globalStep: step, variables: spec.denseVariables.map {
            (Int32($0.id), [Float](repeating: v, count: $0.elementCount))
        }))
        return (sparse, dense)
    }

    /// Runs readers against a writer for `seconds` (or until `stopWhenMixed` sees a mix).
    func run(seconds: Double, unlocked: Bool, stopWhenMixed: Bool) throws -> Counters {
        let (spec, store, batch) = try makeModel()
        store.skipWriteLockForTesting = unlocked
        let predictor = try DeepFMPredictor(spec: spec)
        let c = Counters()
        let done = DispatchGroup()
        // Pre-build messages so the writer only applies.
        let steps: [(UpdateMessage, UpdateMessage)] = (1...64).map { messages(step: Int32($0), spec: spec) }
        for r in 0..<3 {
            done.enter()
            Thread {
                var scratch = PredictScratch()
                var logits: [Float] = [], probs: [Float] = []
                while !c.stop.load(ordering: .relaxed) {
                    do {
                        if r == 2 {
                            try predictor.predict(batch: batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
                            if !probs.allSatisfy({ $0.isFinite }) { c.errors.add(1, ordering: .relaxed) }
                            c.predictions.add(1, ordering: .relaxed)
                            continue
                        }
                        let g = try predictor.gatherForTesting(batch: batch, store: store)
                        let first = g.deep[0]
                        let mixed = g.deep.contains { $0 != first } || g.wide.contains { $0 != first }
                        let d0 = g.dense.values[0][0]
                        let denseMixed = g.dense.values.contains { vs in vs.contains { $0 != d0 } }
                        if mixed || denseMixed {
                            c.mixes.add(1, ordering: .relaxed)
                            if stopWhenMixed { c.stop.store(true, ordering: .relaxed) }
                        }
                        c.gathers.add(1, ordering: .relaxed)
                    } catch {
                        c.errors.add(1, ordering: .relaxed)
                    }
                }
                done.leave()
            }.start()
        }
        let deadline = Date().addingTimeInterval(seconds)
        var i = 0
        while Date() < deadline && !c.stop.load(ordering: .relaxed) {
            let (s, d) = steps[i % steps.count]
            _ = try store.apply(s)
            _ = try store.apply(d)
            c.applied.add(2, ordering: .relaxed)
            i += 1
        }
        c.stop.store(true, ordering: .relaxed)
        done.wait()
        return c
    }

    func testPredictionsNeverSeePartialMessages() throws {
        let c = try run(seconds: 2.0, unlocked: false, stopWhenMixed: false)
        XCTAssertEqual(c.mixes.load(ordering: .relaxed), 0)
        XCTAssertEqual(c.errors.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(c.gathers.load(ordering: .relaxed), 20)
        XCTAssertGreaterThan(c.predictions.load(ordering: .relaxed), 5)
        XCTAssertGreaterThan(c.applied.load(ordering: .relaxed), 20)
        print("concurrency: \(c.gathers.load(ordering: .relaxed)) gathers, \(c.predictions.load(ordering: .relaxed)) predictions, \(c.applied.load(ordering: .relaxed)) messages, 0 mixes")
    }

    /// Negative control: without the write lock the same check does see torn messages.
    func testCheckDetectsMixesWithoutTheLock() throws {
        let c = try run(seconds: 5.0, unlocked: true, stopWhenMixed: true)
        XCTAssertGreaterThan(c.mixes.load(ordering: .relaxed), 0, "the check must be able to fail")
    }
}
