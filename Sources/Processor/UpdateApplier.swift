import Inference
import Logging

/// Decodes one update message and applies it through the parameter store, atomically and in
/// the order given; records the outcome (applied or rejected with its reason) in the state.
public struct UpdateApplier: Sendable {
    public let store: ParameterStore
    public let options: UpdateOptions
    let state: UpdateStreamState
    let logger: Logger

    public init(store: ParameterStore, options: UpdateOptions, state: UpdateStreamState, logger: Logger) {
        self.store = store
        self.options = options
        self.state = state
        self.logger = logger
    }

    /// Where a message came from, for logs and the state.
    public struct Origin: Sendable {
        public var source: String
        public var partition: Int32
        public var offset: Int64
        public var key: String?
        /// Seconds since the epoch (Kafka CreateTime, or the fs file's modification time).
        public var timestamp: Double?

        public init(source: String, partition: Int32, offset: Int64, key: String?, timestamp: Double?) {
            self.source = source
            self.partition = partition
            self.offset = offset
            self.key = key
            self.timestamp = timestamp
        }

        var position: String { "\(source) partition \(partition) offset \(offset)" + (key.map { " key \($0)" } ?? "") }
    }

    /// Decode and apply; returns true when applied. A rejected message changes nothing.
    @discardableResult
    public func apply(_ bytes: [UInt8], origin: Origin) -> Bool {
        bytes.withUnsafeBytes { apply(borrowing: $0, origin: origin) }
    }

    /// Validate and apply `bytes` (e.g. borrowed from the Kafka client's buffer; not kept after
    /// the call). Sparse rows are copied once, straight from `bytes` into the tables; a dense
    /// message is decoded. Returns true when applied; a rejected message changes nothing.
    @discardableResult
    public func apply(borrowing bytes: UnsafeRawBufferPointer, origin: Origin) -> Bool {
        let layout: SparseWireLayout?
        var decoded: UpdateMessage?
        do {
            layout = try UpdateCodec.sparseLayout(bytes, spec: store.spec, options: options)
            if layout == nil { decoded = try UpdateCodec.decode(bytes, spec: store.spec, options: options) }
        } catch {
            reject(origin, rows: 0, reason: "malformed update message: \(error.reason)")
            return false
        }
        let dense = layout == nil
        let step = layout?.globalStep ?? decoded?.globalStep ?? 0
        let rows: Int
        if let layout { rows = layout.rowCount } else if case .dense(let d) = decoded { rows = d.variables.count } else { rows = 0 }
        if let key = origin.key, let parsed = UpdateCodec.parseKafkaKey(key) {
            let keyDense = parsed.kind == .dense
            if keyDense != dense || parsed.step != Int64(step) {
                reject(origin, rows: rows, reason: "key \(key) does not match the body (\(dense ? "dense" : "sparse") step \(step))")
                return false
            }
        }
        do {
            let counts: ApplyCounts
            if let layout {
                counts = try store.apply(layout, bytes: bytes)
            } else if let decoded {
                counts = try store.apply(decoded, options: options)
            } else {
                return false
            }
            state.recordApplied(partition: origin.partition, offset: origin.offset,
                                message: UpdateKindStep(dense: dense, step: Int64(step)),
                                rows: dense ? counts.variables : counts.rowsUpdated + counts.rowsInserted,
                                timestamp: origin.timestamp)
            logger.debug("applied update", metadata: ["position": "\(origin.position)", "step": "\(step)",
                                                      "kind": "\(dense ? "dense" : "sparse")", "rows": "\(rows)"])
            return true
        } catch {
            reject(origin, rows: rows, reason: "update rejected: \(error.reason)")
            return false
        }
    }

    private func reject(_ origin: Origin, rows: Int, reason: String) {
        let text = "\(origin.position): \(reason)"
        logger.error("update message rejected and skipped", metadata: ["position": "\(origin.position)", "reason": "\(reason)"])
        state.recordRejected(partition: origin.partition, offset: origin.offset, rows: rows, reason: text)
    }
}
