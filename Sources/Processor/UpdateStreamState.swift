import Foundation
import Synchronization

/// Progress of one update partition (Kafka) or of the fs directory (partition 0).
public struct PartitionProgress: Sendable, Equatable, Codable {
    public var partition: Int32
    /// Offset the replay started from.
    public var startOffset: Int64
    /// Next offset to apply (last applied or rejected + 1).
    public var nextOffset: Int64
    /// High watermark seen at start-up: readiness waits until `nextOffset` reaches it.
    public var endOffsetAtStart: Int64?
    /// Latest high watermark known (start-up value, then advanced by received messages).
    public var endOffset: Int64?
    public var lag: Int64? { endOffset.map { max(0, $0 - nextOffset) } }
    public var caughtUp: Bool { endOffsetAtStart.map { nextOffset >= $0 } ?? false }

    enum CodingKeys: String, CodingKey { case partition, startOffset, nextOffset, endOffsetAtStart, endOffset, lag, caughtUp }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(partition, forKey: .partition)
        try c.encode(startOffset, forKey: .startOffset)
        try c.encode(nextOffset, forKey: .nextOffset)
        try c.encodeIfPresent(endOffsetAtStart, forKey: .endOffsetAtStart)
        try c.encodeIfPresent(endOffset, forKey: .endOffset)
        try c.encodeIfPresent(lag, forKey: .lag)
        try c.encode(caughtUp, forKey: .caughtUp)
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        partition = try c.decode(Int32.self, forKey: .partition)
        startOffset = try c.decode(Int64.self, forKey: .startOffset)
        nextOffset = try c.decode(Int64.self, forKey: .nextOffset)
        endOffsetAtStart = try c.decodeIfPresent(Int64.self, forKey: .endOffsetAtStart)
        endOffset = try c.decodeIfPresent(Int64.self, forKey: .endOffset)
    }
    public init(partition: Int32, startOffset: Int64, endOffsetAtStart: Int64?) {
        self.partition = partition
        self.startOffset = startOffset
        self.nextOffset = startOffset
        self.endOffsetAtStart = endOffsetAtStart
        self.endOffset = endOffsetAtStart
    }
}

/// Summary of the delay between a message's Kafka timestamp (or fs file time) and its application.
public struct FreshnessStats: Sendable, Equatable, Codable {
    public var count: Int = 0
    public var lastSeconds: Double?
    public var meanSeconds: Double?
    public var maxSeconds: Double?
    public init() {}
}

/// Everything `/status` and `/readyz` report about the update stream.
public struct UpdateStreamSnapshot: Sendable, Equatable, Codable {
    /// "kafka", "fs" or "none" (`--no-updates`, or an export without update settings).
    public var mode: String
    public var source: String?
    public var partitions: [PartitionProgress] = []
    public var messagesApplied: Int = 0
    public var messagesRejected: Int = 0
    public var rowsApplied: Int = 0
    public var rowsRejected: Int = 0
    /// Last applied dense / sparse `global_step` (the processor's `saved_model_step`).
    public var denseStep: Int64?
    public var sparseStep: Int64?
    public var lastError: String?
    /// The update stream's connection: "connecting to ...", "cannot reach ...: <error>; retrying", or "connected".
    public var connection: String?
    /// Problems the stream detected: offset gaps / retention loss, steps going backwards,
    /// dense or sparse messages whose partner step never came within the window.
    public var problems: [String] = []
    /// True once the start-up end offsets of every partition were reached (always true with no stream).
    public var caughtUp: Bool
    /// When `caughtUp` became true (Unix seconds, wall clock): the moment a restarted processor finished
    /// its replay (set once; nil before, and without an update stream).
    public var caughtUpAt: Double?
    /// The start offset is no longer held by the broker (retention): served state is incomplete.
    public var startOffsetLost: Bool = false
    public var freshness = FreshnessStats()

    public init(mode: String, source: String?, caughtUp: Bool) {
        self.mode = mode
        self.source = source
        self.caughtUp = caughtUp
    }
}

/// Thread-safe record of the update stream's progress, written by the stream thread and
/// read by HTTP handlers. Also checks step order and dense/sparse pairing.
public final class UpdateStreamState: Sendable {
    private struct State {
        var snapshot: UpdateStreamSnapshot
        /// step -> (kind seen, when) for steps seen in only one kind so far.
        var unpaired: [Int64: (dense: Bool, at: Double)] = [:]
    }
    private let state: Mutex<State>
    private let metrics: ProcessorMetrics
    /// Seconds a dense (sparse) step may wait for its sparse (dense) partner before it is reported.
    public let pairingWindow: Double
    /// Report steps whose partner kind never arrived (off when the trainer's cadences differ).
    public let checkPairing: Bool
    private static let maxProblems = 50

    public init(mode: String, source: String?, metrics: ProcessorMetrics, pairingWindow: Double = 30,
                checkPairing: Bool = true) {
        state = Mutex(State(snapshot: UpdateStreamSnapshot(mode: mode, source: source, caughtUp: mode == "none")))
        self.metrics = metrics
        self.pairingWindow = pairingWindow
        self.checkPairing = checkPairing
    }

    public var snapshot: UpdateStreamSnapshot {
        let now = Date().timeIntervalSince1970
        return state.withLock { s in
            Self.expirePairs(&s, now: now, window: pairingWindow, enabled: checkPairing)
            return s.snapshot
        }
    }

    /// Set the partitions and their start/end offsets once they are known.
    func setPartitions(_ partitions: [PartitionProgress]) {
        state.withLock { s in
            s.snapshot.partitions = partitions.sorted { $0.partition < $1.partition }
            Self.updateCaughtUp(&s.snapshot)
        }
        for p in partitions { metrics.setLag(topic: topicLabel, partition: p.partition, lag: p.lag ?? 0) }
    }

    private var topicLabel: String { state.withLock { $0.snapshot.source ?? "" } }

    /// A message was applied. `timestamp` is the message's time (seconds since the epoch), if known.
    func recordApplied(partition: Int32, offset: Int64, message: UpdateKindStep, rows: Int,
                       timestamp: Double?) {
        let now = Date().timeIntervalSince1970
        let fresh = timestamp.map { max(0, now - $0) }
        var lag: Int64 = 0
        state.withLock { s in
            advance(&s, partition: partition, offset: offset)
            s.snapshot.messagesApplied += 1
            s.snapshot.rowsApplied += rows
            let previous = message.dense ? s.snapshot.denseStep : s.snapshot.sparseStep
            if let previous, message.step < previous {
                Self.addProblem(&s.snapshot, "\(message.dense ? "dense" : "sparse") step went backwards: \(previous) -> \(message.step) at partition \(partition) offset \(offset)")
            }
            if message.dense { s.snapshot.denseStep = message.step } else { s.snapshot.sparseStep = message.step }
            if let fresh {
                var f = s.snapshot.freshness
                f.meanSeconds = ((f.meanSeconds ?? 0) * Double(f.count) + fresh) / Double(f.count + 1)
                f.count += 1
                f.lastSeconds = fresh
                f.maxSeconds = max(f.maxSeconds ?? 0, fresh)
                s.snapshot.freshness = f
            }
            if checkPairing {
                if let other = s.unpaired[message.step], other.dense != message.dense {
                    s.unpaired[message.step] = nil
                } else if s.unpaired[message.step] == nil {
                    s.unpaired[message.step] = (message.dense, now)
                }
                Self.expirePairs(&s, now: now, window: pairingWindow, enabled: true)
            }
            lag = s.snapshot.partitions.first { $0.partition == partition }?.lag ?? 0
        }
        metrics.updateMessagesApplied.increment()
        metrics.updateRowsApplied.increment(by: rows)
        if let fresh { metrics.freshness.record(fresh) }
        if message.dense { metrics.denseStep.record(message.step) } else { metrics.sparseStep.record(message.step) }
        metrics.setLag(topic: topicLabel, partition: partition, lag: lag)
    }

    /// A message was rejected whole (malformed or inconsistent); it is skipped.
    func recordRejected(partition: Int32, offset: Int64, rows: Int, reason: String) {
        state.withLock { s in
            advance(&s, partition: partition, offset: offset)
            s.snapshot.messagesRejected += 1
            s.snapshot.rowsRejected += rows
            s.snapshot.lastError = reason
        }
        metrics.updateMessagesRejected.increment()
        metrics.updateRowsRejected.increment(by: rows)
    }

    /// Offsets `expected..<received` will never be applied (retention dropped them).
    /// `startOffsetLost`: the lost range begins at the replay's start offset (retention dropped what the base needs).
    func recordGap(partition: Int32, expected: Int64, received: Int64?, reason: String, startOffsetLost: Bool) {
        state.withLock { s in
            s.snapshot.lastError = reason
            Self.addProblem(&s.snapshot, reason)
            if startOffsetLost { s.snapshot.startOffsetLost = true }
        }
        metrics.updateGaps.increment()
    }

    /// A message with no position (fs mode file, or a transport error).
    /// The stream's connection state as `/status` and `/readyz` report it.
    func recordConnection(_ text: String) {
        state.withLock { s in s.snapshot.connection = text }
    }

    func recordError(_ reason: String) {
        state.withLock { s in s.snapshot.lastError = reason }
    }

    /// Raise the known end offset of a partition (new messages arrived, or a watermark query).
    func recordEndOffset(partition: Int32, end: Int64) {
        let lag = state.withLock { s -> Int64? in
            guard let i = s.snapshot.partitions.firstIndex(where: { $0.partition == partition }) else { return nil }
            s.snapshot.partitions[i].endOffset = max(s.snapshot.partitions[i].endOffset ?? end, end)
            return s.snapshot.partitions[i].lag
        }
        if let lag { metrics.setLag(topic: topicLabel, partition: partition, lag: lag) }
    }

    /// Partitions whose next offset is below their known end offset (replay or catch-up in progress).
    func laggingPartitions() -> [Int32] {
        state.withLock { s in
            var out: [Int32] = []
            for p in s.snapshot.partitions where (p.lag ?? 0) > 0 { out.append(p.partition) }
            return out
        }
    }

    /// Mark the stream as caught up (fs mode: the directory's files present at start are applied).
    func markCaughtUp() {
        state.withLock { s in
            if !s.snapshot.caughtUp { s.snapshot.caughtUpAt = Date().timeIntervalSince1970 }
            s.snapshot.caughtUp = true
        }
    }

    private func advance(_ s: inout State, partition: Int32, offset: Int64) {
        guard let i = s.snapshot.partitions.firstIndex(where: { $0.partition == partition }) else { return }
        s.snapshot.partitions[i].nextOffset = max(s.snapshot.partitions[i].nextOffset, offset + 1)
        if s.snapshot.partitions[i].endOffset.map({ $0 < offset + 1 }) ?? true {
            s.snapshot.partitions[i].endOffset = offset + 1
        }
        Self.updateCaughtUp(&s.snapshot)
    }

    private static func updateCaughtUp(_ snap: inout UpdateStreamSnapshot) {
        if snap.caughtUp || snap.partitions.isEmpty { return }
        snap.caughtUp = snap.partitions.allSatisfy(\.caughtUp)
        if snap.caughtUp { snap.caughtUpAt = Date().timeIntervalSince1970 }
    }

    private static func addProblem(_ snap: inout UpdateStreamSnapshot, _ text: String) {
        snap.problems.append(text)
        if snap.problems.count > maxProblems { snap.problems.removeFirst(snap.problems.count - maxProblems) }
    }

    private static func expirePairs(_ s: inout State, now: Double, window: Double, enabled: Bool) {
        guard enabled else { return }
        for (step, seen) in s.unpaired where now - seen.at > window {
            addProblem(&s.snapshot, "\(seen.dense ? "dense" : "sparse") update of step \(step) has no \(seen.dense ? "sparse" : "dense") partner after \(Int(window)) s")
            s.unpaired[step] = nil
        }
    }
}

/// Kind and step of one update message, for ordering checks.
public struct UpdateKindStep: Sendable, Equatable {
    public var dense: Bool
    public var step: Int64
    public init(dense: Bool, step: Int64) {
        self.dense = dense
        self.step = step
    }
}
