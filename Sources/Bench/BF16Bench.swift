import ArrayIO
import Export
import FG
import Foundation
import Inference

/// `odl bench bf16`: one export served with f32 and with bf16 embedding rows in one process:
/// table bytes, RSS growth and load time of each, forward items/s (alternating repetitions on
/// the same batch) and the probability differences bf16 makes on a seeded batch of ids that
/// the tables hold.
package struct BF16Bench {
    package var export: String
    /// Optional int64 .npy [B, F] (``ForwardBench``'s ids) for the speed batch; else a seeded batch.
    package var ids: String?
    package var batchSize = 128
    package var accuracyItems = 20_000
    package var seconds = 0.5
    package var reps = 7

    package init(export: String, ids: String?, batchSize: Int = 128, accuracyItems: Int = 20_000,
                 seconds: Double = 0.5, reps: Int = 7) {
        self.export = export
        self.ids = ids
        self.batchSize = batchSize
        self.accuracyItems = accuracyItems
        self.seconds = seconds
        self.reps = reps
    }

    package func run() throws {
        let (versionDir, _, spec) = try BenchModel.loadSpec(exportDir: export)
        // f32 as `odl serve` loads it (mapped), every page touched; then bf16 (rounded copy).
        let rss0 = BenchSupport.residentBytes()
        var t = BenchSupport.now()
        let f32 = try ExportReader.loadStore(versionDir, spec: spec)
        let f32Load = BenchSupport.now() - t
        t = BenchSupport.now()
        _ = f32.checksum()
        let f32Touch = BenchSupport.now() - t
        let rss1 = BenchSupport.residentBytes()
        t = BenchSupport.now()
        let bf16 = try ExportReader.loadStore(versionDir, spec: spec, embeddingDType: .bf16)
        let bf16Load = BenchSupport.now() - t
        let rss2 = BenchSupport.residentBytes()

        let predictor = try DeepFMPredictor(spec: spec)
        let keys = Self.presentKeys(f32)
        var rng = BenchRng(seed: 16)
        // Accuracy over many items, in forward-sized batches.
        var diffs: [Double] = []
        diffs.reserveCapacity(accuracyItems)
        var scratch = PredictScratch()
        var l32: [Float] = [], p32: [Float] = [], l16: [Float] = [], p16: [Float] = []
        var maxLogit = 0.0
        var done = 0
        while done < accuracyItems {
            let n = min(1024, accuracyItems - done)
            let batch = Self.randomBatch(spec: spec, keys: keys, items: n, rng: &rng)
            try predictor.predict(batch: batch, store: f32, scratch: &scratch, logits: &l32, probs: &p32)
            try predictor.predict(batch: batch, store: bf16, scratch: &scratch, logits: &l16, probs: &p16)
            for i in 0..<n {
                diffs.append(Double(abs(p32[i] - p16[i])))
                maxLogit = max(maxLogit, Double(abs(l32[i] - l16[i])))
            }
            done += n
        }
        let speedBatch = try ids.map { try ForwardBench.batch(idsPath: $0, spec: spec) }
            ?? Self.randomBatch(spec: spec, keys: keys, items: batchSize, rng: &rng)
        var rates32: [Double] = [], rates16: [Double] = [], cpu32: [Double] = [], cpu16: [Double] = []
        for rep in 0..<max(1, reps) {
            // Alternate which goes first.
            for dtype in rep % 2 == 0 ? [EmbeddingDType.f32, .bf16] : [.bf16, .f32] {
                let r = try Self.itemsPerSecond(predictor, speedBatch, dtype == .f32 ? f32 : bf16, seconds)
                if dtype == .f32 { rates32.append(r.wall); cpu32.append(r.cpu) } else { rates16.append(r.wall); cpu16.append(r.cpu) }
            }
        }
        let r32 = BenchSupport.median(rates32), r16 = BenchSupport.median(rates16)
        let ratios = zip(rates16, rates32).map { $0 / $1 }
        let c32 = BenchSupport.median(cpu32), c16 = BenchSupport.median(cpu16)
        try BenchSupport.emit([
            "export": versionDir, "tables": spec.embeddings.count,
            "table_bytes_f32": f32.tableBytes, "table_bytes_bf16": bf16.tableBytes,
            "table_bytes_ratio": Double(bf16.tableBytes) / Double(max(1, f32.tableBytes)),
            "rss_growth_f32_bytes": rss1 - rss0, "rss_growth_bf16_bytes": rss2 - rss1,
            "load_seconds_f32_mapped": f32Load, "touch_seconds_f32": f32Touch, "load_seconds_bf16": bf16Load,
            "batch": speedBatch.batchSize, "reps": rates32.count, "seconds_per_rep": seconds,
            "items_per_s_f32": r32, "items_per_s_bf16": r16, "ratio_median_of_medians": r16 / r32,
            "ratio_median_paired": BenchSupport.median(ratios),
            "items_per_s_f32_reps": rates32, "items_per_s_bf16_reps": rates16,
            "items_per_cpu_s_f32": c32, "items_per_cpu_s_bf16": c16, "ratio_cpu_median": c16 / c32,
            "ratio_cpu_median_paired": BenchSupport.median(zip(cpu16, cpu32).map { $0 / $1 }),
            "accuracy_items": diffs.count, "max_abs_prob_diff": diffs.max() ?? 0,
            "p99_abs_prob_diff": BenchSupport.percentile(diffs, 99),
            "mean_abs_prob_diff": diffs.isEmpty ? 0 : diffs.reduce(0, +) / Double(diffs.count),
            "max_abs_logit_diff": maxLogit,
            "max_abs_embedding": Self.maxAbsEmbedding(f32),
        ])
    }

    /// Items per second of wall time and per second of this thread's CPU time (the latter is
    /// comparable across runs on a loaded machine).
    static func itemsPerSecond(_ p: DeepFMPredictor, _ batch: EncodedBatch, _ store: ParameterStore,
                               _ seconds: Double) throws -> (wall: Double, cpu: Double) {
        var scratch = PredictScratch()
        var logits: [Float] = [], probs: [Float] = []
        try p.predict(batch: batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
        var iterations = 0
        let start = BenchSupport.now(), cpuStart = BenchSupport.threadCPUNow()
        var elapsed = 0.0
        while elapsed < seconds || iterations < 3 {
            try p.predict(batch: batch, store: store, scratch: &scratch, logits: &logits, probs: &probs)
            iterations += 1
            elapsed = BenchSupport.now() - start
        }
        let cpu = BenchSupport.threadCPUNow() - cpuStart
        let items = Double(batch.batchSize * iterations)
        return (items / elapsed, cpu > 0 ? items / cpu : 0)
    }

    /// Keys held by each key-value table (empty for fixed tables), from the f32 store.
    static func presentKeys(_ store: ParameterStore) -> [[Int64]] {
        store.snapshotParameters().tables.map {
            if case .keyValue(_, let keys, _) = $0 { return keys }
            return []
        }
    }

    /// Largest |value| in any embedding table (bf16's absolute error scales with it).
    static func maxAbsEmbedding(_ store: ParameterStore) -> Double {
        var m: Float = 0
        for t in store.snapshotParameters().tables {
            switch t {
            case .fixed(_, _, let v), .keyValue(_, _, let v): for x in v { m = max(m, abs(x)) }
            }
        }
        return Double(m)
    }

    /// One id per column per item: a row of a fixed table, or a key its key-value table holds
    /// (both parts of a column read the same id; the deep table's keys are sampled).
    static func randomBatch(spec: ModelSpec, keys: [[Int64]], items: Int, rng: inout BenchRng) -> EncodedBatch {
        var batch = EncodedBatch(columnCount: spec.columns.count)
        for c in spec.columns.indices {
            let table = spec.tableId(column: c, part: .deep) ?? spec.tableId(column: c, part: .wide)
            for _ in 0..<items {
                if let rows = spec.columns[c].rows {
                    batch.columns[c].append(id: Int64(rng.below(rows)))
                } else if let table, !keys[table].isEmpty {
                    batch.columns[c].append(id: keys[table][rng.below(keys[table].count)])
                }
                batch.columns[c].endItem()
            }
        }
        batch.batchSize = items
        return batch
    }
}
