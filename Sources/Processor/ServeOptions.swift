import Foundation
import Inference

/// Everything `odl serve` can be told; unset values default from the export.
public struct ServeOptions: Sendable {
    /// Export folder or one of its version folders.
    public var model: String
    /// Where embeddings live when exported separately (local path or http(s) URL).
    public var embeddingDir: String?
    /// Address to listen on; loopback unless told otherwise (all interfaces without a token is warned about).
    public var host: String = "127.0.0.1"
    /// 0 picks an ephemeral port (printed on the `listening:` line).
    public var port: Int = 8080
    /// Kafka bootstrap servers; default kafka.txt / incr_update.txt `server`.
    public var kafkaServer: String?
    /// Update topic; default kafka.txt / incr_update.txt `topic`.
    public var topic: String?
    /// Partitions to consume; default all.
    public var partitions: [Int32]?
    /// `N` (every partition) or `p:o,p:o`; default kafka.txt `consumer.offset` / `offsets`.
    public var startOffset: String?
    /// fs mode: poll this directory instead of Kafka.
    public var incrSaveDir: String?
    /// Serve the base model only.
    public var noUpdates: Bool = false
    /// Item feature table (CSV with header, or JSON lines), loaded once.
    public var itemTable: String?
    /// Item features from PostgreSQL/Hologres: `postgres://USER@HOST:PORT/DB?table=T&key=K&time_key=C` (see ``ItemSourceSettings``).
    public var itemSource: String?
    /// File holding the item source's password (else the URL's, else `PGPASSWORD`).
    public var itemPasswordFile: String?
    /// Seconds between incremental item refreshes.
    public var itemRefreshSeconds: Double = 1
    /// Seconds between full item reloads (removes deleted items); nil = never.
    public var itemReconcileSeconds: Double?
    public var itemKey: String = "item_id"
    public var token: String?
    /// Require the token on `/status` and `/metrics` too (they are open by default; health checks stay open).
    public var protectOps: Bool = false
    /// Seconds a client may take to send one request, first byte to last (else 408 and close).
    public var readTimeout: Double = 10
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout: Double = 60
    /// Most open connections; beyond it new connections wait in the listen backlog.
    public var maxConnections: Int = 1024
    /// What a NaN / infinite float feature in a request does: rejected (400) or treated as missing.
    public var nonFiniteFeatures: NonFiniteFeaturePolicy = .reject
    public var outputs: [ModelOutput] = [.probs, .logits]
    public var limits = ServeLimits()
    public var serviceName: String?
    /// Threads of the scoring pool for large requests.
    public var workerThreads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Requests with at least this many items are scored on the worker pool.
    public var offloadItems: Int = 256
    /// Accept NaN / infinite values in update messages (rejected by default).
    public var allowNonFinite: Bool = false
    /// Seconds a dense (sparse) step may wait for its sparse (dense) partner before it is reported.
    public var pairingWindow: Double = 30
    /// Report unpaired dense/sparse steps (turn off when the trainer's dense and sparse cadences differ).
    public var checkPairing: Bool = true
    /// Resident memory to stay under (bytes); sorted memory-mapped key-value tables are
    /// released from memory when over it (see ``MemoryBudget``). nil = no budget.
    public var memoryBudget: Int?
    /// Key-value tables with sorted keys and at least this many rows are served from read-only
    /// maps of their files, without an in-memory hash index (tables bigger than RAM). With a
    /// memory budget and no explicit value, every sorted key-value table is.
    public var sortedKVMinRows: Int?
    /// Rows of room made in every key-value table at load (memory faulted in, index sized), so
    /// that inserting that many new keys costs no page fault and no re-hash. 0 = none.
    public var kvReserveRows: Int = 0
    /// Benchmark ceiling peer: predict answers a score of 0 per item after decoding and checking the
    /// request (``CeilingPredictor``), skipping FG and the model; everything else is unchanged.
    public var ceiling: Bool = false
    /// How embedding rows are stored (bf16: half the memory, rounded at load and on apply).
    public var embeddingDType: EmbeddingDType = .f32
    /// Extra librdkafka consumer settings.
    public var consumerSettings: [String: String] = [:]

    public init(model: String) {
        self.model = model
    }

    /// Parse `--start-offset`: `N` or `p:o,p:o,...`. Errors name the bad entry.
    public static func parseStartOffset(_ text: String) throws(ServeError) -> (all: Int64?, perPartition: [Int32: Int64]) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let n = Int64(trimmed) {
            guard n >= 0 else { throw ServeError("--start-offset: \(n) is negative") }
            return (n, [:])
        }
        var map: [Int32: Int64] = [:]
        for entry in trimmed.split(separator: ",") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let p = Int32(parts[0].trimmingCharacters(in: .whitespaces)),
                  let o = Int64(parts[1].trimmingCharacters(in: .whitespaces)), p >= 0, o >= 0 else {
                throw ServeError("--start-offset: \"\(entry)\" is not PARTITION:OFFSET (or give one offset for all)")
            }
            map[p] = o
        }
        guard !map.isEmpty else { throw ServeError("--start-offset: empty") }
        return (nil, map)
    }
}

/// A start-up failure of the processor (bad option, unreadable export, model mismatch).
public struct ServeError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
