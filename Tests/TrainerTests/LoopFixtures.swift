import FG
import Foundation
import Inference
@testable import Trainer

/// A small deterministic model over ``tinySpec()`` for loop tests: every step adds
/// `0.01 * (label - 0.5)` to the rows of the batch's ids and 1 to every dense element.
final class CountingModel: TrainingModel {
    var globalStep = 0
    var params: ModelParameters
    var touched: [Int: Set<Int64>] = [:]
    var slots: [String: (shape: [Int], values: [Float])] = ["beta1_power": ([], [0.9])]
    var batchSizes: [Int] = []

    init(_ p: ModelParameters = tinyParameters()) { params = p }

    func trainStep(batch: EncodedBatch, labels: [Float]) -> (loss: Float, probs: [Float]) {
        batchSizes.append(batch.batchSize)
        for item in 0..<batch.batchSize {
            let delta = 0.01 * (labels[item] - 0.5)
            let col = batch.columns[0]
            for k in Int(col.offsets[item])..<Int(col.offsets[item + 1]) {
                let id = col.ids[k]
                for t in [0, 1] {
                    guard case .fixed(let rows, let dim, var v) = params.tables[t] else { continue }
                    for d in 0..<dim { v[Int(id) * dim + d] += delta }
                    params.tables[t] = .fixed(rows: rows, dim: dim, values: v)
                    touched[t, default: []].insert(id)
                }
            }
        }
        for i in params.dense.indices { params.dense[i] = params.dense[i].map { $0 + 1 } }
        slots["beta1_power"] = ([], [Float(globalStep)])
        globalStep += 1
        return (0.5, labels.map { _ in 0.5 })
    }

    func parameters() -> ModelParameters { params }
    func denseValues(id: Int) -> [Float] { params.dense[id] }
    func drainTouchedRows() -> [Int: [Int64]] {
        defer { touched = [:] }
        return touched.mapValues { Array($0) }
    }
    func rowValues(embeddingId: Int, keys: [Int64]) -> [Float] {
        guard case .fixed(_, let dim, let v) = params.tables[embeddingId] else { return [] }
        return keys.flatMap { v[(Int($0) * dim)..<(Int($0) * dim + dim)] }
    }
    func optimizerState() -> [String: (shape: [Int], values: [Float])] { slots }
    func restoreOptimizerState(_ state: [String: (shape: [Int], values: [Float])]) throws { slots = state }
}

struct EncodeFailure: Error {}

/// Samples `label,a` where a is an integer: column 0 gets id `a mod 5`; a >= 1000 fails to encode.
struct ModEncoder: BatchEncoding {
    func encode(lines: [[UInt8]], into out: inout EncodedBatch) throws {
        out.reset()
        for l in lines {
            let f = String(decoding: l, as: UTF8.self).split(separator: ",")
            guard f.count == 2, let a = Int64(f[1]), a < 1000 else { throw EncodeFailure() }
            out.columns[0].append(id: a % 5)
            out.columns[0].endItem()
            out.columns[1].endItem()
        }
        out.batchSize = lines.count
    }
}

/// An in-memory partitioned topic.
final class MemorySource: SampleSource {
    var records: [SampleRecord]
    var next = 0
    let finite: Bool
    init(_ records: [SampleRecord], finite: Bool) {
        self.records = records
        self.finite = finite
    }
    func poll(maxRecords: Int, timeout: Double) throws -> [SampleRecord] {
        let end = min(records.count, next + maxRecords)
        defer { next = end }
        if next == end, !finite { Thread.sleep(forTimeInterval: min(timeout, 0.01)) }
        return Array(records[next..<end])
    }
    var isExhausted: Bool { finite && next >= records.count }
    var hasOffsets: Bool { true }
    func lag(positions: [Int32: Int64]) -> Int64? { Int64(records.count - next) }
    var commits: [[Int32: Int64]] = []
    func commit(positions: [Int32: Int64]) { commits.append(positions) }
    func describe(_ r: SampleRecord) -> String { "memory partition \(r.partition) offset \(r.offset)" }
}

/// Keeps every message in memory.
final class MemorySink: UpdateSink {
    var messages: [(key: String, value: [UInt8])] = []
    func send(key: String, value: [UInt8]) throws { messages.append((key, value)) }
    var nextOffsets: [Int32: Int64] { [0: Int64(messages.count)] }
    var description: String { "memory" }
}

struct ConstantAUC: AUCTracker {
    var n = 0
    mutating func update(probs: [Float], labels: [Float]) { n += labels.count }
    var value: Double { 0.5 }
}
