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
        let message: UpdateMessage
        do {
            message = try UpdateCodec.decode(bytes, spec: store.spec, options: options)
        } catch {
            reject(origin, rows: 0, reason: "malformed update message: \(error.reason)")
            return false
        }
        let dense: Bool
        let rows: Int
        switch message {
        case .dense(let d): dense = true; rows = d.variables.count
        case .sparse(let s): dense = false; rows = s.blocks.reduce(0) { $0 + $1.keys.count }
        }
        if let key = origin.key, let parsed = UpdateCodec.parseKafkaKey(key) {
            let keyDense = parsed.kind == .dense
            if keyDense != dense || parsed.step != Int64(message.globalStep) {
                reject(origin, rows: rows, reason: "key \(key) does not match the body (\(dense ? "dense" : "sparse") step \(message.globalStep))")
                return false
            }
        }
        do {
            let counts = try store.apply(message, options: options)
            state.recordApplied(partition: origin.partition, offset: origin.offset,
                                message: UpdateKindStep(dense: dense, step: Int64(message.globalStep)),
                                rows: dense ? counts.variables : counts.rowsUpdated + counts.rowsInserted,
                                timestamp: origin.timestamp)
            logger.debug("applied update", metadata: ["position": "\(origin.position)", "step": "\(message.globalStep)",
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
