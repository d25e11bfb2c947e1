import ArrayIO
import FG
import Foundation
import Inference
import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `odl bench kv-insert`: update rows/s into a key-value (hash) table when every key is new
/// (inserts: index probe + new row), through the processor's path (wire layout check, then
/// ``ParameterStore/apply(_:bytes:)``), while another thread predicts; alternating with memcpy of
/// the same row bytes appended to a buffer in this process.
package struct KVInsertBench {
    package var initialRows: Int
    package var seconds: Double
    package var reps: Int
    package var rowsPerMessage: Int
    package var dim: Int
    /// Whether a thread predicts (batches of 128, reading the table) while rows are inserted.
    package var predict: Bool
    /// Room made before the reps (``ParameterStore/reserveKeyValueRows(_:)``); each insert rep
    /// then stops at `reserveRows / reps` rows, so every insert lands in the room. 0 = none.
    package var reserveRows = 0

    package init(initialRows: Int, seconds: Double, reps: Int, rowsPerMessage: Int, dim: Int, predict: Bool = true) {
        self.predict = predict
        self.initialRows = initialRows
        self.seconds = seconds
        self.reps = reps
        self.rowsPerMessage = rowsPerMessage
        self.dim = dim
    }

    final class Flags: Sendable {
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
        let predictions = Atomic<Int>(0)
    }

    /// Distinct-looking 63-bit keys from a counter (SplitMix64 finalizer: a bijection, so distinct counters give distinct keys).
    @inline(__always)
    static func key(_ n: UInt64) -> Int64 {
        var z = n &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int64(bitPattern: (z ^ (z >> 31)) >> 1)
    }

    package func run() throws {
        guard initialRows >= 0, seconds > 0, reps > 0, rowsPerMessage > 0, dim > 0 else {
            throw BenchError("--initial-rows must be >= 0; --seconds, --reps, --rows-per-message, --dim positive")
        }
        guard reserveRows == 0 || reserveRows >= reps * rowsPerMessage else {
            throw BenchError("--reserve-rows must be 0 or at least --reps x --rows-per-message")
        }
        let user = FeatureColumnSpec(name: "user", inputNames: ["user"], kind: .hashed(bucketSize: 1000), embeddingDim: dim)
        let item = FeatureColumnSpec(name: "item", inputNames: ["item"], kind: .keyValue, embeddingDim: dim)
        let spec = try ModelSpec.make(columns: [user, item], wideFeatures: [0], deepFeatures: [0, 1], dnnHidden: [64, 32], finalDnnHidden: nil)
        guard let kvTable = spec.embeddings.first(where: { $0.rows == nil }) else { throw BenchError("no key-value table in the spec") }
        var rng = BenchRng(seed: 5)
        var counter: UInt64 = 0
        let t0 = BenchSupport.now()
        let keys = (0..<initialRows).map { _ in counter += 1; return Self.key(counter) }
        let tables: [EmbeddingTableValues] = spec.embeddings.map { e in
            if let r = e.rows { return .fixed(rows: r, dim: e.dim, values: (0..<(r * e.dim)).map { _ in rng.uniform(0.05) }) }
            return .keyValue(dim: e.dim, keys: keys, values: (0..<(initialRows * e.dim)).map { _ in rng.uniform(0.05) })
        }
        let dense = spec.denseVariables.map { v in (0..<v.elementCount).map { _ in rng.uniform(0.05) } }
        let store = try ParameterStore(spec: spec, parameters: ModelParameters(dense: dense, tables: tables))
        let buildSeconds = BenchSupport.now() - t0
        let r0 = BenchSupport.now()
        let reservedBytes = store.reserveKeyValueRows(reserveRows)
        let reserveSeconds = BenchSupport.now() - r0
        let repRowLimit = reserveRows > 0 ? reserveRows / reps : Int.max
        // A pool of encoded messages; before each apply its keys are rewritten to fresh ones.
        var pool: [[UInt8]] = []
        for m in 0..<32 {
            let values = (0..<(rowsPerMessage * dim)).map { _ in rng.uniform(0.05) }
            let msg = UpdateMessage.sparse(SparseUpdate(globalStep: Int32(m), blocks: [
                .init(embeddingId: Int32(kvTable.id), keys: (0..<rowsPerMessage).map { Int64($0) }, values: values)]))
            pool.append(UpdateCodec.encode(msg))
        }
        let keysOffset: Int = try pool[0].withUnsafeBytes { raw in
            guard let layout = try UpdateCodec.sparseLayout(raw, spec: spec), let b = layout.blocks.first, b.keyBytes == 8 else {
                throw BenchError("the encoded message has no 8-byte-key sparse block")
            }
            return b.keysOffset
        }
        // Predictions on another thread: batch 128 of known keys.
        var batch = EncodedBatch(columnCount: 2)
        for i in 0..<128 {
            batch.columns[0].append(id: Int64(rng.below(1000))); batch.columns[0].endItem()
            batch.columns[1].append(id: keys.isEmpty ? Self.key(UInt64(i)) : keys[rng.below(keys.count)]); batch.columns[1].endItem()
        }
        batch.batchSize = 128
        let predictor = try DeepFMPredictor(spec: spec)
        let flags = Flags()
        let predictBatch = batch
        let thread = Thread {
            var scratch = PredictScratch()
            var l: [Float] = [], p: [Float] = []
            while predict && !flags.stop.load(ordering: .relaxed) {
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
        // memcpy peer: the same row bytes appended to a buffer (wrapping at 4M rows).
        let peerRows = 1 << 22
        let dest = FloatBuffer(zeroed: peerRows * dim)
        memset(dest.pointer, 1, peerRows * dim * 4)
        var peerAt = 0
        let rowBytes = dim * 4
        var insertRates: [Double] = [], memcpyRates: [Double] = [], predictRates: [Double] = []
        var insertCPURates: [Double] = [], memcpyCPURates: [Double] = []
        var inserted = 0, updated = 0
        var next = 0
        for rep in 0..<reps {
            for side in (rep % 2 == 0 ? [0, 1] : [1, 0]) {
                let p0 = flags.predictions.load(ordering: .relaxed)
                var done = 0
                let start = BenchSupport.now(), cpuStart = BenchSupport.threadCPUNow()
                var elapsed = 0.0
                while elapsed < seconds && (side == 1 || done + rowsPerMessage <= repRowLimit) {
                    let i = next % pool.count
                    next += 1
                    try pool[i].withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) throws in
                        for j in 0..<rowsPerMessage {
                            counter += 1
                            raw.storeBytes(of: Self.key(counter).littleEndian, toByteOffset: keysOffset + 8 * j, as: Int64.self)
                        }
                        let bytes = UnsafeRawBufferPointer(raw)
                        if side == 0 {
                            guard let layout = try UpdateCodec.sparseLayout(bytes, spec: spec) else { throw BenchError("not a sparse message") }
                            let c = try store.apply(layout, bytes: bytes)
                            inserted += c.rowsInserted
                            updated += c.rowsUpdated
                            done += c.rowsInserted + c.rowsUpdated
                        } else {
                            guard let base = bytes.baseAddress else { return }
                            let values = base + keysOffset + 8 * rowsPerMessage
                            for j in 0..<rowsPerMessage {
                                memcpy(dest.pointer + peerAt * dim, values + j * rowBytes, rowBytes)
                                peerAt = (peerAt + 1) & (peerRows - 1)
                            }
                            done += rowsPerMessage
                        }
                    }
                    elapsed = BenchSupport.now() - start
                }
                let cpu = BenchSupport.threadCPUNow() - cpuStart
                if side == 0 {
                    insertRates.append(Double(done) / elapsed)
                    insertCPURates.append(cpu > 0 ? Double(done) / cpu : 0)
                    predictRates.append(Double(flags.predictions.load(ordering: .relaxed) - p0) / elapsed)
                } else {
                    memcpyRates.append(Double(done) / elapsed)
                    memcpyCPURates.append(cpu > 0 ? Double(done) / cpu : 0)
                }
            }
        }
        let rate = BenchSupport.median(insertRates), copy = BenchSupport.median(memcpyRates)
        try BenchSupport.emit([
            "dim": dim, "rows_per_message": rowsPerMessage, "reserve_rows": reserveRows,
            "reserve_seconds": reserveSeconds, "reserved_bytes": reservedBytes, "initial_rows": initialRows,
            "final_rows": store.rowCount(embeddingId: kvTable.id), "build_seconds": buildSeconds,
            "insert_rows_per_s": rate, "insert_reps": insertRates, "rows_inserted": inserted, "rows_updated": updated,
            "memcpy_rows_per_s": copy, "memcpy_reps": memcpyRates, "ratio": copy > 0 ? rate / copy : 0,
            "insert_rows_per_cpu_s": BenchSupport.median(insertCPURates), "insert_cpu_reps": insertCPURates,
            "memcpy_rows_per_cpu_s": BenchSupport.median(memcpyCPURates),
            "ratio_cpu": BenchSupport.median(memcpyCPURates) > 0 ? BenchSupport.median(insertCPURates) / BenchSupport.median(memcpyCPURates) : 0,
            "predictions_per_s_during_insert": BenchSupport.median(predictRates), "predicting": predict,
        ])
    }
}
