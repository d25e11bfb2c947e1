import ArrayIO
import Export
import FG
import Foundation
import Inference

/// `odl bench forward`: DeepFM forward items/s on one thread for the bucket ids of an int64
/// .npy [B, F] (column k = the k-th deep feature), the peer of bench/ort_deepfm.py.
package struct ForwardBench {
    package var export: String
    package var ids: String
    package var seconds: Double = 0.5
    package var probsOut: String?

    package init(export: String, ids: String, seconds: Double = 0.5, probsOut: String?) {
        self.export = export
        self.ids = ids
        self.seconds = seconds
        self.probsOut = probsOut
    }

    package func run() throws {
        let (versionDir, _, spec) = try BenchModel.loadSpec(exportDir: export)
        let store = try ExportReader.loadStore(versionDir, spec: spec)
        _ = store.checksum()   // fault every mapped page in, as a warmed-up server would have
        let batch = try Self.batch(idsPath: ids, spec: spec)
        let predictor = try DeepFMPredictor(spec: spec)
        var scratch = PredictScratch()
        var logits: [Float] = []
        var probs: [Float] = []
        try predictor.predict(batch: batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
        if let probsOut {
            try Npy.write(probs, shape: [probs.count], to: probsOut)
        }
        var iterations = 0
        var elapsed = 0.0, cpu = 0.0
        if seconds > 0 {
            let start = BenchSupport.now(), cpuStart = BenchSupport.threadCPUNow()
            while elapsed < seconds || iterations < 3 {
                try predictor.predict(batch: batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
                iterations += 1
                elapsed = BenchSupport.now() - start
            }
            cpu = BenchSupport.threadCPUNow() - cpuStart
        }
        try BenchSupport.emit([
            "batch": batch.batchSize, "iterations": iterations, "seconds": elapsed,
            "items_per_second": elapsed > 0 ? Double(batch.batchSize * iterations) / elapsed : 0,
            // Per second of this thread's CPU time: comparable across runs on a loaded machine.
            "cpu_seconds": cpu, "items_per_cpu_second": cpu > 0 ? Double(batch.batchSize * iterations) / cpu : 0,
        ])
    }

    /// One id per feature per item from the .npy; every model column must be a deep feature.
    static func batch(idsPath: String, spec: ModelSpec) throws -> EncodedBatch {
        let (shape, values) = try Npy.readInt64s(path: idsPath)
        guard shape.count == 2, shape[1] == spec.deepFeatures.count else {
            throw BenchError("\(idsPath): shape \(shape), need [B, \(spec.deepFeatures.count)] (one column per deep feature)")
        }
        let b = shape[0], f = shape[1]
        var batch = EncodedBatch(columnCount: spec.columns.count)
        for c in spec.columns.indices {
            guard let k = spec.deepFeatures.firstIndex(of: c) else {
                throw BenchError("column \(spec.columns[c].name) is not a deep feature; the ids file has deep columns only")
            }
            let rows = spec.columns[c].rows ?? Int.max
            for i in 0..<b {
                let id = values[i * f + k]
                guard id >= 0 && id < rows else {
                    throw BenchError("\(idsPath): item \(i) feature \(spec.columns[c].name): id \(id) outside 0..<\(rows)")
                }
                batch.columns[c].append(id: id)
                batch.columns[c].endItem()
            }
        }
        batch.batchSize = b
        return batch
    }
}
