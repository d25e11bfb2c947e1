import ArrayIO
import Export
import FG
import Foundation
import Inference
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `odl bench apply`: sparse rows applied per second (decode + validate + apply, as the
/// processor does) into the export's largest table while another thread predicts, alternating
/// with memcpy of the same row bytes to the same destinations in this process.
package struct ApplyBench {
    package var export: String
    package var seconds: Double = 1.5
    package var reps: Int = 5
    package var rowsPerMessage: Int = 1000

    package init(export: String, seconds: Double = 1.5, reps: Int = 5, rowsPerMessage: Int = 1000) {
        self.export = export
        self.seconds = seconds
        self.reps = reps
        self.rowsPerMessage = rowsPerMessage
    }

    /// Shared with the prediction thread.
    final class Flags: Sendable {
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
        let predictions = Atomic<Int>(0)
    }

    package func run() throws {
        guard reps > 0, seconds > 0, rowsPerMessage > 0 else { throw BenchError("--reps, --seconds, --rows-per-message must be positive") }
        let (versionDir, _, spec) = try BenchModel.loadSpec(exportDir: export)
        let t0 = BenchSupport.now()
        // Heap copy (touches every page once): steady-state memory, as a server after its first updates.
        let store = try ExportReader.loadStore(versionDir, spec: spec, mapTables: false)
        let loadSeconds = BenchSupport.now() - t0
        guard let table = spec.embeddings.filter({ $0.part == .deep }).max(by: { ($0.rows ?? 0) < ($1.rows ?? 0) }),
              let rows = table.rows else { throw BenchError("\(versionDir): no fixed deep table") }
        let dim = table.dim
        var rng = BenchRng(seed: 11)
        let messageCount = 256
        var encoded: [[UInt8]] = []
        var keysOf: [[Int64]] = []
        var valuesOf: [[Float]] = []
        for m in 0..<messageCount {
            let keys = (0..<rowsPerMessage).map { _ in Int64(rng.below(rows)) }
            let values = (0..<(rowsPerMessage * dim)).map { _ in rng.uniform(0.05) }
            let msg = UpdateMessage.sparse(SparseUpdate(globalStep: Int32(m), blocks: [.init(embeddingId: Int32(table.id), keys: keys, values: values)]))
            encoded.append(UpdateCodec.encode(msg))
            keysOf.append(keys)
            valuesOf.append(values)
        }
        // Predictions on another thread for the whole run (batch 128, random ids).
        var batch = EncodedBatch(columnCount: spec.columns.count)
        for c in spec.columns.indices {
            let r = spec.columns[c].rows ?? 1
            for _ in 0..<128 {
                batch.columns[c].append(id: Int64(rng.below(r)))
                batch.columns[c].endItem()
            }
        }
        batch.batchSize = 128
        let predictor = try DeepFMPredictor(spec: spec)
        let flags = Flags()
        let predictBatch = batch
        let thread = Thread {
            var scratch = PredictScratch()
            var l: [Float] = [], p: [Float] = []
            while !flags.stop.load(ordering: .relaxed) {
                if (try? predictor.predict(batch: predictBatch, store: store, scratch: &scratch, logits: &l, probs: &p)) != nil {
                    flags.predictions.add(1, ordering: .relaxed)
                }
            }
            flags.done.store(true, ordering: .releasing)
        }
        thread.start()
        defer {
            flags.stop.store(true, ordering: .relaxed)
            while !flags.done.load(ordering: .acquiring) { usleep(1000) }
        }
        let dest = FloatBuffer(zeroed: rows * dim)
        memset(dest.pointer, 1, rows * dim * 4)   // fault the destination in before timing
        var applyRates: [Double] = [], memcpyRates: [Double] = []
        var predictRatesApply: [Double] = [], predictRatesMemcpy: [Double] = []
        var next = 0
        for rep in 0..<reps {
            for side in (rep % 2 == 0 ? [0, 1] : [1, 0]) {
                let p0 = flags.predictions.load(ordering: .relaxed)
                var done = 0
                let start = BenchSupport.now()
                var elapsed = 0.0
                while elapsed < seconds {
                    let i = next % messageCount
                    next += 1
                    if side == 0 {
                        let m = try UpdateCodec.decode(encoded[i], spec: spec)
                        done += try store.apply(m).rowsUpdated
                    } else {
                        keysOf[i].withUnsafeBufferPointer { keys in
                            valuesOf[i].withUnsafeBufferPointer { v in
                                guard let vp = v.baseAddress else { return }
                                for j in 0..<keys.count {
                                    memcpy(dest.pointer + Int(keys[j]) * dim, vp + j * dim, dim * 4)
                                }
                            }
                        }
                        done += rowsPerMessage
                    }
                    elapsed = BenchSupport.now() - start
                }
                let preds = Double(flags.predictions.load(ordering: .relaxed) - p0) / elapsed
                if side == 0 {
                    applyRates.append(Double(done) / elapsed)
                    predictRatesApply.append(preds)
                } else {
                    memcpyRates.append(Double(done) / elapsed)
                    predictRatesMemcpy.append(preds)
                }
            }
        }
        let apply = BenchSupport.median(applyRates), copy = BenchSupport.median(memcpyRates)
        try BenchSupport.emit([
            "table": table.name, "rows": rows, "dim": dim, "rows_per_message": rowsPerMessage,
            "store_load_seconds": loadSeconds,
            "apply_rows_per_s": apply, "apply_reps": applyRates,
            "apply_bytes_per_s": apply * Double(dim * 4),
            "memcpy_rows_per_s": copy, "memcpy_reps": memcpyRates,
            "memcpy_bytes_per_s": copy * Double(dim * 4),
            "ratio": copy > 0 ? apply / copy : 0,
            "predictions_per_s_during_apply": BenchSupport.median(predictRatesApply),
            "predictions_per_s_during_memcpy": BenchSupport.median(predictRatesMemcpy),
        ])
    }
}
