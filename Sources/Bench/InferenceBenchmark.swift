import ArrayIO
import Export
import FG
import Foundation
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
import Inference
import UpdateFuzz
#endif

/// Release-build measurements of the Inference module (run with `odl inspect --bench`). Each function
/// returns human-readable result lines.
package enum InferenceBenchmark {
    /// Flags shared with the prediction thread.
    final class Flags: Sendable {
        let stop = Atomic<Bool>(false)
        let count = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        /// Slowest prediction seen, nanoseconds.
        let maxNanos = Atomic<Int>(0)
    }

    static func mb(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_048_576) }

    static func randomDense(_ spec: ModelSpec, _ r: inout BenchRng) -> [[Float]] {
        spec.denseVariables.map { v in
            if v.name.hasSuffix("moving_variance") || v.name.hasSuffix("gamma") { return [Float](repeating: 1, count: v.elementCount) }
            let scale = v.shape.count == 2 ? 1 / Float(v.shape[0]).squareRoot() : 0.05
            return (0..<v.elementCount).map { _ in r.uniform(scale) }
        }
    }

    static func randomBuffer(_ count: Int, _ r: inout BenchRng, scale: Float = 0.05) -> FloatBuffer {
        let b = FloatBuffer(zeroed: count)
        for i in 0..<count { b.pointer[i] = r.uniform(scale) }
        return b
    }

    static func hashedColumns(_ n: Int, rows: Int, dim: Int) -> [FeatureColumnSpec] {
        (0..<n).map { FeatureColumnSpec(name: "f\($0)", inputNames: ["f\($0)"], kind: .hashed(bucketSize: rows), embeddingDim: dim) }
    }

    static func randomBatch(columns: Int, rows: [Int], items: Int, _ r: inout BenchRng) -> EncodedBatch {
        var batch = EncodedBatch(columnCount: columns)
        for c in 0..<columns {
            for _ in 0..<items {
                batch.columns[c].append(id: Int64(r.next() % UInt64(rows[c])))
                batch.columns[c].endItem()
            }
        }
        batch.batchSize = items
        return batch
    }

    static func store(spec: ModelSpec, _ r: inout BenchRng) throws -> ParameterStore {
        let tables: [StoredTable] = spec.embeddings.map { e in
            .fixed(FixedTable(rows: e.rows ?? 0, dim: e.dim, buffer: randomBuffer((e.rows ?? 0) * e.dim, &r)))
        }
        return try ParameterStore(spec: spec, dense: randomDense(spec, &r), tables: tables)
    }

    // MARK: forward

    /// Forward items/s for a 20-feature, dim-16 DeepFM with dnn 256-128-64 and final_dnn 64.
    package static func forward(batchSizes: [Int] = [1, 16, 128, 1024], seconds: Double = 1.0) throws -> [String] {
        var r = BenchRng(seed: 1)
        let cols = hashedColumns(20, rows: 10_000, dim: 16)
        let spec = try ModelSpec.make(columns: cols, wideFeatures: Array(0..<20), deepFeatures: Array(0..<20),
                                      dnnHidden: [256, 128, 64], finalDnnHidden: [64])
        let s = try store(spec: spec, &r)
        let predictor = try DeepFMPredictor(spec: spec)
        var lines = ["forward: 20 features x dim 16 (wide + deep), dnn 256-128-64 (BN), final_dnn 64, 1 thread"]
        for b in batchSizes {
            let batch = randomBatch(columns: 20, rows: Array(repeating: 10_000, count: 20), items: b, &r)
            var scratch = PredictScratch()
            var logits: [Float] = [], probs: [Float] = []
            try predictor.predict(batch: batch, store: s, scratch: &scratch, logits: &logits, probs: &probs)
            var iters = 0
            let start = BenchSupport.now()
            var elapsed = 0.0
            while elapsed < seconds || iters < 3 {
                try predictor.predict(batch: batch, store: s, scratch: &scratch, logits: &logits, probs: &probs)
                iters += 1
                elapsed = BenchSupport.now() - start
            }
            let perBatch = elapsed / Double(iters)
            lines.append(String(format: "  batch %5d: %10.0f items/s  (%8.1f us per batch)", b, Double(b * iters) / elapsed, perBatch * 1e6))
        }
        return lines
    }

    // MARK: sparse apply

    /// Sparse rows applied per second (dim 16) into a `rows`-row table while predictions run on
    /// another thread, beside plain memcpy of the same bytes.
    package static func sparseApply(rows: Int = 10_000_000, dim: Int = 16, rowsPerMessage: Int = 1000,
                                   seconds: Double = 3.0) throws -> [String] {
        var r = BenchRng(seed: 2)
        let cols = [FeatureColumnSpec(name: "big", inputNames: ["big"], kind: .hashed(bucketSize: rows), embeddingDim: dim),
                    FeatureColumnSpec(name: "small", inputNames: ["small"], kind: .hashed(bucketSize: 1000), embeddingDim: dim)]
        let spec = try ModelSpec.make(columns: cols, wideFeatures: [], deepFeatures: [0, 1], dnnHidden: [64], finalDnnHidden: nil)
        let t0 = BenchSupport.now()
        let s = try store(spec: spec, &r)
        let buildTime = BenchSupport.now() - t0
        let messageCount = 200
        var encoded: [[UInt8]] = []
        var decoded: [UpdateMessage] = []
        for m in 0..<messageCount {
            let keys = (0..<rowsPerMessage).map { _ in Int64(r.next() % UInt64(rows)) }
            let values = (0..<(rowsPerMessage * dim)).map { _ in r.uniform(0.05) }
            let msg = UpdateMessage.sparse(SparseUpdate(globalStep: Int32(m), blocks: [.init(embeddingId: 0, keys: keys, values: values)]))
            encoded.append(UpdateCodec.encode(msg))
            decoded.append(msg)
        }
        let predictor = try DeepFMPredictor(spec: spec)
        let batch = randomBatch(columns: 2, rows: [rows, 1000], items: 128, &r)

        func withPredictions(_ body: () throws -> Void) rethrows -> (count: Int, maxMicros: Double) {
            let f = Flags()
            let thread = Thread {
                var scratch = PredictScratch()
                var l: [Float] = [], p: [Float] = []
                while !f.stop.load(ordering: .relaxed) {
                    let t = BenchSupport.now()
                    if (try? predictor.predict(batch: batch, store: s, scratch: &scratch, logits: &l, probs: &p)) != nil {
                        f.count.add(1, ordering: .relaxed)
                        let ns = Int((BenchSupport.now() - t) * 1e9)
                        if ns > f.maxNanos.load(ordering: .relaxed) { f.maxNanos.store(ns, ordering: .relaxed) }
                    }
                }
                f.done.store(true, ordering: .releasing)
            }
            thread.start()
            defer {
                f.stop.store(true, ordering: .relaxed)
                while !f.done.load(ordering: .acquiring) { usleep(1000) }
            }
            try body()
            return (f.count.load(ordering: .relaxed), Double(f.maxNanos.load(ordering: .relaxed)) / 1000)
        }

        var lines = [String(format: "sparse apply: table %d x %d (%@), %d rows per message, predictions (batch 128) on another thread; store built in %.2f s",
                            rows, dim, mb(rows * dim * 4), rowsPerMessage, buildTime)]
        // predictions alone (baseline for their rate and worst latency)
        var elapsed = 0.0
        let alone = withPredictions { usleep(UInt32(seconds * 1_000_000)) }
        lines.append(String(format: "  predictions alone: %.0f/s, slowest %.0f us", Double(alone.count) / seconds, alone.maxMicros))
        // decode + apply
        var applied = 0
        let preds1 = try withPredictions {
            let start = BenchSupport.now()
            var i = 0
            while elapsed < seconds {
                let m = try UpdateCodec.decode(encoded[i % messageCount], spec: spec)
                applied += try s.apply(m).rowsUpdated
                i += 1
                elapsed = BenchSupport.now() - start
            }
        }
        lines.append(String(format: "  decode + apply: %12.0f rows/s  (%6.0f MB/s of row data; %.0f predictions/s alongside, slowest %.0f us)",
                            Double(applied) / elapsed, Double(applied * dim * 4) / elapsed / 1e6, Double(preds1.count) / elapsed, preds1.maxMicros))
        // apply only
        applied = 0; elapsed = 0
        let preds2 = try withPredictions {
            let start = BenchSupport.now()
            var i = 0
            while elapsed < seconds {
                applied += try s.apply(decoded[i % messageCount]).rowsUpdated
                i += 1
                elapsed = BenchSupport.now() - start
            }
        }
        lines.append(String(format: "  apply only:     %12.0f rows/s  (%6.0f MB/s; %.0f predictions/s alongside, slowest %.0f us)",
                            Double(applied) / elapsed, Double(applied * dim * 4) / elapsed / 1e6, Double(preds2.count) / elapsed, preds2.maxMicros))
        // memcpy of the same rows to the same random destinations (no lock, no validation).
        let dest = FloatBuffer(zeroed: rows * dim)
        var copied = 0
        elapsed = 0
        let start = BenchSupport.now()
        var i = 0
        while elapsed < seconds {
            guard case .sparse(let sp) = decoded[i % messageCount] else { break }
            let b = sp.blocks[0]
            b.values.withUnsafeBufferPointer { v in
                guard let vp = v.baseAddress else { return }
                for (j, k) in b.keys.enumerated() { memcpy(dest.pointer + Int(k) * dim, vp + j * dim, dim * 4) }
            }
            copied += b.keys.count
            i += 1
            elapsed = BenchSupport.now() - start
        }
        lines.append(String(format: "  memcpy rows:    %12.0f rows/s  (%6.0f MB/s; same rows and destinations, no predictions)",
                            Double(copied) / elapsed, Double(copied * dim * 4) / elapsed / 1e6))
        return lines
    }

    // MARK: load

    /// Writes a ~1 GB export (10M x 16 + 10M x 1 + 5M x 16 tables, dense) into `dir` (a temp
    /// folder when nil) and measures loading it: memory-mapped, touching every page, copied.
    package static func loadExport(dir: String? = nil, bigRows: Int = 10_000_000) throws -> [String] {
        var r = BenchRng(seed: 3)
        let base = dir ?? (NSTemporaryDirectory() + "odl-bench-export-\(getpid())")
        let cols = [FeatureColumnSpec(name: "big1", inputNames: ["big1"], kind: .hashed(bucketSize: bigRows), embeddingDim: 16),
                    FeatureColumnSpec(name: "big2", inputNames: ["big2"], kind: .hashed(bucketSize: bigRows / 2), embeddingDim: 16),
                    FeatureColumnSpec(name: "small", inputNames: ["small"], kind: .hashed(bucketSize: 1000), embeddingDim: 16)]
        let spec = try ModelSpec.make(columns: cols, wideFeatures: [0], deepFeatures: [0, 1, 2], dnnHidden: [256, 128, 64], finalDnnHidden: [64])
        let v = base + "/1"
        try FileIO.makeDirectories(v + "/variables/dense")
        try FileIO.makeDirectories(v + "/embeddings")
        defer {
            for e in spec.embeddings { unlink(v + "/embeddings/\(e.id).npy") }
            for d in spec.denseVariables { unlink(v + "/variables/dense/\(d.id).npy") }
            for f in ["pipeline.config", "DENSE_UPDATE_VARIABLES", "embed_name_to_ids.txt", "signature.json"] { unlink(v + "/" + f) }
            rmdir(v + "/variables/dense"); rmdir(v + "/variables"); rmdir(v + "/embeddings"); rmdir(v); rmdir(base)
        }
        let tw = BenchSupport.now()
        try ExportWriter.writeMetadata(dir: v, spec: spec, pipelineConfig: "# benchmark\n")
        for (d, values) in zip(spec.denseVariables, randomDense(spec, &r)) {
            try Npy.write(values, shape: d.shape, to: v + "/variables/dense/\(d.id).npy")
        }
        var totalBytes = 0
        for e in spec.embeddings {
            let rows = e.rows ?? 0
            let buf = randomBuffer(rows * e.dim, &r)
            try Npy.write(floats: buf.buffer, shape: [rows, e.dim], to: v + "/embeddings/\(e.id).npy")
            totalBytes += rows * e.dim * 4
        }
        var lines = [String(format: "load: export of %@ (%d tables, largest %d x 16) written in %.1f s (files in page cache)",
                            mb(totalBytes), spec.embeddings.count, bigRows, BenchSupport.now() - tw)]
        let rss0 = BenchSupport.residentBytes()
        var t = BenchSupport.now()
        var store: ParameterStore? = try ExportReader.loadStore(v, spec: spec, mapTables: true)
        let mappedTime = BenchSupport.now() - t
        let rss1 = BenchSupport.residentBytes()
        t = BenchSupport.now()
        let sum = store?.checksum() ?? 0
        let touchTime = BenchSupport.now() - t
        let rss2 = BenchSupport.residentBytes()
        lines.append(String(format: "  memory-mapped load: %.3f s, RSS +%@; first full pass over all rows (checksum %016llx): %.2f s, RSS +%@",
                            mappedTime, mb(rss1 - rss0), sum, touchTime, mb(rss2 - rss0)))
        store = nil
        let rss3 = BenchSupport.residentBytes()
        t = BenchSupport.now()
        store = try ExportReader.loadStore(v, spec: spec, mapTables: false)
        let copyTime = BenchSupport.now() - t
        let rss4 = BenchSupport.residentBytes()
        let same = store?.checksum() == sum
        lines.append(String(format: "  copied load:        %.2f s, RSS +%@ (checksum equal: %@)", copyTime, mb(rss4 - rss3), same ? "yes" : "NO"))
        store = nil
        return lines
    }

    // MARK: fuzz

    /// The update fuzzer at full size (1M messages by default).
    package static func fuzz(count: Int = 1_000_000) -> [String] {
        let t = BenchSupport.now()
        let report = UpdateFuzzer.run(count: count, seed: 42)
        let elapsed = BenchSupport.now() - t
        var lines = [String(format: "fuzz: %d messages in %.1f s: %d accepted, %d rejected, %d store-level rejections, %d violations",
                            report.messages, elapsed, report.accepted, report.rejected, report.storeLevelRejections, report.violations.count)]
        lines.append("  rejected by reason: " + report.rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        lines += report.violations.map { "  VIOLATION: \($0)" }
        return lines
    }
}
