import Foundation
import Inference
import Synchronization

/// `/status` JSON body.
public struct ProcessorStatus: Sendable, Codable, Equatable {
    public struct Model: Sendable, Codable, Equatable {
        public var path: String
        public var version: String
        /// The base's training step when the export records it.
        public var baseStep: Int64?
        /// `ParameterStore.checksum()` in hex: equal on two processors means bit-identical parameters.
        public var checksum: String
        public var features: Int
        public var embeddingTables: Int
        public var denseVariables: Int
        /// How embedding rows are stored: "f32" or "bf16" (`--embedding-dtype`).
        public var embeddingDType: String
        /// Bytes of embedding row values held (heap or mapped; hash indexes not counted).
        public var tableBytes: Int
    }
    public var service: String?
    public var ready: Bool
    public var readiness: String
    public var uptimeSeconds: Double
    public var model: Model
    public var updates: UpdateStreamSnapshot
    /// The item feature cache (absent without an item source).
    public var items: ItemSourceSnapshot?
    /// Resident memory against `--memory-budget` (absent without a budget).
    public var memory: MemorySnapshot?

    /// What the memory budget guard sees.
    public struct MemorySnapshot: Sendable, Codable, Equatable {
        public var budgetBytes: Int
        public var residentBytes: Int
        public var peakResidentBytes: Int
        /// Times the mapped tables were released to get back under the budget.
        public var releases: Int
    }
}

/// Answers `/status` and `/readyz` from the model and the update stream state.
final class StatusReporter: OperationsReporting {
    let model: LoadedModel
    let state: UpdateStreamState
    let items: ItemSourceState?
    let serviceName: String?
    let started: Date
    let budget: MemoryBudget?
    /// Checksum cache keyed by how many messages had been applied when it was computed.
    private let checksumCache = Mutex<(applied: Int, value: UInt64)?>(nil)

    init(model: LoadedModel, state: UpdateStreamState, items: ItemSourceState? = nil, serviceName: String?, started: Date,
         budget: MemoryBudget? = nil) {
        self.model = model
        self.budget = budget
        self.state = state
        self.items = items
        self.serviceName = serviceName
        self.started = started
    }

    func readiness() -> (ready: Bool, reason: String) {
        readiness(state.snapshot)
    }

    /// Not ready until the item source's first full load finished; then the update stream decides.
    func readiness(_ s: UpdateStreamSnapshot) -> (ready: Bool, reason: String) {
        if let items, !items.loaded {
            let i = items.snapshot
            return (false, "loading item features from \(i.source)" + (i.lastError.map { ": \($0)" } ?? ""))
        }
        return updateReadiness(s)
    }

    func updateReadiness(_ s: UpdateStreamSnapshot) -> (ready: Bool, reason: String) {
        let lost = s.startOffsetLost
            ? "; WARNING: the start offset is no longer held by the broker, updates were lost: \(s.problems.first ?? "")" : ""
        if s.mode == "none" { return (true, "base loaded; no update stream (\(s.source ?? "none"))") }
        if s.caughtUp { return (true, "base loaded, update stream \(s.mode) \(s.source ?? "") caught up" + lost) }
        if s.partitions.isEmpty {
            return (false, "update stream \(s.mode) \(s.source ?? "") not connected yet" + (s.connection.map { ": \($0)" } ?? s.lastError.map { ": \($0)" } ?? "") + lost)
        }
        let behind = s.partitions.filter { !$0.caughtUp }.map {
            "partition \($0.partition) at \($0.nextOffset) of \($0.endOffsetAtStart ?? -1)"
        }
        return (false, "replaying updates from \(s.source ?? s.mode): " + behind.joined(separator: ", ") + lost)
    }

    func status() -> ProcessorStatus {
        let snap = state.snapshot
        let applied = snap.messagesApplied
        let checksum: UInt64
        if let cached = checksumCache.withLock({ $0 }), cached.applied == applied {
            checksum = cached.value
        } else {
            checksum = model.store.checksum()
            checksumCache.withLock { $0 = (applied, checksum) }
        }
        let r = readiness(snap)
        let spec = model.store.spec
        return ProcessorStatus(
            service: serviceName, ready: r.ready, readiness: r.reason,
            uptimeSeconds: Date().timeIntervalSince(started),
            model: .init(path: model.versionDir, version: model.version, baseStep: model.manifest.globalStep,
                         checksum: String(checksum, radix: 16), features: spec.columns.count,
                         embeddingTables: spec.embeddings.count, denseVariables: spec.denseVariables.count,
                         embeddingDType: model.store.embeddingDType.rawValue, tableBytes: model.store.tableBytes),
            updates: snap, items: items?.snapshot,
            memory: budget.map {
                .init(budgetBytes: $0.budgetBytes, residentBytes: MemoryBudget.residentBytes() ?? 0,
                      peakResidentBytes: $0.peakBytes.load(ordering: .relaxed), releases: $0.releases.load(ordering: .relaxed))
            })
    }

    func statusJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(status())) ?? Data("{}".utf8)) + [0x0a]
    }
}
