import Foundation
import Inference

/// A pool of encoded sparse update messages over a model's deep tables; `message(step:)`
/// stamps a global step into a copy (header bytes 8..<12) so every message is distinct.
struct BenchUpdatePool {
    let encoded: [[UInt8]]
    let rowsPerMessage: Int

    init(spec: ModelSpec, rowsPerMessage: Int, count: Int = 64, seed: UInt64 = 5) throws {
        let tables = spec.embeddings.filter { $0.part == .deep && $0.rows != nil }
        guard !tables.isEmpty else { throw BenchError("the model has no fixed deep table to update") }
        var rng = BenchRng(seed: seed)
        var out: [[UInt8]] = []
        for m in 0..<count {
            let t = tables[m % tables.count]
            let rows = t.rows ?? 1
            let keys = (0..<rowsPerMessage).map { _ in Int64(rng.below(rows)) }
            let values = (0..<(rowsPerMessage * t.dim)).map { _ in rng.uniform(0.05) }
            out.append(UpdateCodec.encode(.sparse(SparseUpdate(globalStep: Int32(m), blocks: [.init(embeddingId: Int32(t.id), keys: keys, values: values)]))))
        }
        encoded = out
        self.rowsPerMessage = rowsPerMessage
    }

    func message(step: Int) -> [UInt8] {
        var bytes = encoded[step % encoded.count]
        withUnsafeBytes(of: Int32(truncatingIfNeeded: step).littleEndian) { s in
            for i in 0..<4 { bytes[8 + i] = s[i] }
        }
        return bytes
    }
}
