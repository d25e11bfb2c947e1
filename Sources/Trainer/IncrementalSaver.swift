import Foundation
import Inference
import Logging

/// `incr_save_config` as the trainer uses it.
public struct IncrementalSaveSettings: Sendable {
    public var denseSteps: Int?
    public var denseSeconds: Double?
    public var sparseSteps: Int?
    public var sparseSeconds: Double?
    /// Also write every message to `model_dir/debug_updates/`.
    public var debugSaveUpdate: Bool
    /// Largest message; bigger updates are split (the embedded broker keeps ~5 MiB per partition).
    public var maxMessageBytes: Int

    public init(denseSteps: Int? = nil, denseSeconds: Double? = nil, sparseSteps: Int? = nil, sparseSeconds: Double? = nil,
                debugSaveUpdate: Bool = false, maxMessageBytes: Int = 8 << 20) {
        self.denseSteps = denseSteps
        self.denseSeconds = denseSeconds
        self.sparseSteps = sparseSteps
        self.sparseSeconds = sparseSeconds
        self.debugSaveUpdate = debugSaveUpdate
        self.maxMessageBytes = maxMessageBytes
    }
}

/// Sends dense and sparse updates on their schedules (never at the arming step) and a final
/// pair at the end; a message counts once its sink acknowledged it.
public final class IncrementalSaver {
    public let spec: ModelSpec
    public let settings: IncrementalSaveSettings
    public let sink: any UpdateSink
    let debug: DebugUpdateWriter?
    var dense: PeriodicTrigger
    var sparse: PeriodicTrigger
    let logger: Logger
    /// Messages acknowledged so far, and their bytes.
    public private(set) var messagesSent = 0
    public private(set) var bytesSent = 0

    public init(spec: ModelSpec, settings: IncrementalSaveSettings, sink: any UpdateSink, debug: DebugUpdateWriter?,
                step: Int, time: Double, logger: Logger) {
        self.spec = spec
        self.settings = settings
        self.sink = sink
        self.debug = debug
        self.logger = logger
        dense = PeriodicTrigger(steps: settings.denseSteps, seconds: settings.denseSeconds, step: step, time: time)
        sparse = PeriodicTrigger(steps: settings.sparseSteps, seconds: settings.sparseSeconds, step: step, time: time)
    }

    /// Sends whatever is due after a training step.
    public func afterStep(model: any TrainingModel, step: Int, time: Double) throws {
        if sparse.isDue(step: step, time: time) {
            try sendSparse(model: model, step: step)
            sparse.mark(step: step, time: time)
        }
        if dense.isDue(step: step, time: time) {
            try sendDense(model: model, step: step)
            dense.mark(step: step, time: time)
        }
    }

    /// The final pair: a sparse message with the rows touched since the last one and a dense
    /// message, unless nothing was trained since the last of each.
    public func finish(model: any TrainingModel, step: Int, time: Double) throws {
        if step > sparse.lastStep {
            try sendSparse(model: model, step: step)
            sparse.mark(step: step, time: time)
        }
        if step > dense.lastStep {
            try sendDense(model: model, step: step)
            dense.mark(step: step, time: time)
        }
    }

    func sendDense(model: any TrainingModel, step: Int) throws {
        let ids = spec.denseVariables.map(\.id)
        let messages = UpdateEncoding.denseMessages(step: Int32(truncatingIfNeeded: step), ids: ids,
                                                    values: { model.denseValues(id: $0) }, maxBytes: settings.maxMessageBytes)
        for m in messages { try deliver(key: "dense_update_\(step)", bytes: UpdateCodec.encode(.dense(m))) }
    }

    func sendSparse(model: any TrainingModel, step: Int) throws {
        let touched = model.drainTouchedRows()
        var tables: [(embeddingId: Int, dim: Int, keys: [Int64], values: [Float])] = []
        var rows = 0
        for e in spec.embeddings {
            guard let keys = touched[e.id], !keys.isEmpty else { continue }
            let sorted = keys.sorted()
            tables.append((e.id, e.dim, sorted, model.rowValues(embeddingId: e.id, keys: sorted)))
            rows += sorted.count
        }
        let messages = UpdateEncoding.sparseMessages(step: Int32(truncatingIfNeeded: step), tables: tables,
                                                     maxBytes: settings.maxMessageBytes)
        if messages.count > 1 {
            logger.info("sparse update at step \(step): \(rows) rows split into \(messages.count) messages")
        }
        for m in messages { try deliver(key: "sparse_update_\(step)", bytes: UpdateCodec.encode(.sparse(m))) }
    }

    func deliver(key: String, bytes: [UInt8]) throws {
        debug?.write(key: key, value: bytes)
        try sink.send(key: key, value: bytes)
        messagesSent += 1
        bytesSent += bytes.count
    }
}
