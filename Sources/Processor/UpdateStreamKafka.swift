import Foundation
import Kafka
import Logging
import Synchronization

/// Where the Kafka update stream reads from.
public struct KafkaStreamSettings: Sendable, Equatable {
    public var bootstrap: String
    public var topic: String
    /// Partitions to consume; nil means every partition of the topic.
    public var partitions: [Int32]?
    /// Start offset of a partition absent from `startOffsets`.
    public var defaultStartOffset: Int64
    /// Per-partition start offsets (kafka.txt `offsets`, or `--start-offset p:o,...`).
    public var startOffsets: [Int32: Int64]
    /// Extra librdkafka settings for the consumer.
    public var consumerSettings: [String: String]
    /// Most message bytes held (not applied) while the model is still loading (see
    /// ``ApplierLatch``); past it the stream stops polling and librdkafka's own prefetch queue
    /// (queued.max.messages.kbytes) is all that fills up.
    public var earlyBufferBytes: Int = KafkaStreamSettings.defaultEarlyBufferBytes
    public static let defaultEarlyBufferBytes = 256 << 20

    public init(bootstrap: String, topic: String, partitions: [Int32]? = nil, defaultStartOffset: Int64 = 0,
                startOffsets: [Int32: Int64] = [:], consumerSettings: [String: String] = [:]) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.defaultStartOffset = defaultStartOffset
        self.startOffsets = startOffsets
        self.consumerSettings = consumerSettings
    }

    public func startOffset(_ partition: Int32) -> Int64 { startOffsets[partition] ?? defaultStartOffset }
}

/// Consumes the update topic with `assign()` at the start offsets (no consumer group, no
/// commits: a restart is always base + replay) and applies each message in offset order.
/// Runs its blocking loop on a dedicated thread (`run(stop:)`).
///
/// The stream may start before the model is loaded (``EarlyUpdateStream``): until `latch`
/// opens it connects, assigns and polls, keeping the messages (un-copied, in librdkafka's
/// fetch buffers, at most `settings.earlyBufferBytes`) and the other events in arrival order;
/// once it opens it handles them in that order, exactly as if they had just been polled, and
/// then goes on applying as it reads.
final class KafkaUpdateStream: Sendable {
    let settings: KafkaStreamSettings
    let latch: ApplierLatch
    let state: UpdateStreamState
    let logger: Logger

    init(settings: KafkaStreamSettings, latch: ApplierLatch, state: UpdateStreamState, logger: Logger) {
        self.settings = settings
        self.latch = latch
        self.state = state
        self.logger = logger
    }

    convenience init(settings: KafkaStreamSettings, applier: UpdateApplier, state: UpdateStreamState, logger: Logger) {
        self.init(settings: settings, latch: ApplierLatch(applier: applier), state: state, logger: logger)
    }

    /// What was polled while the latch was closed, in arrival order.
    private enum Held {
        case message(HeldMessage)
        case event(ConsumerEvent)
    }

    /// Messages held while loading (for tests and the log): count and bytes, updated by the stream thread.
    let earlyHeld = Mutex<(messages: Int, bytes: Int)>((0, 0))

    /// The blocking loop; returns when `stop` becomes true. Connection problems are retried.
    func run(stop: borrowing Atomic<Bool>) {
        var consumer: Consumer?
        var attempt = 0
        while !stop.load(ordering: .relaxed) {
            attempt += 1
            state.recordConnection("connecting to kafka \(settings.bootstrap) topic \(settings.topic) (attempt \(attempt))")
            do {
                let c = try open()
                consumer = c
                try consume(c, stop: stop)
            } catch {
                let reason = "kafka \(settings.bootstrap) topic \(settings.topic): \(error)"
                state.recordError(reason)
                state.recordConnection("cannot reach \(reason); retrying in 1 s (attempt \(attempt))")
                logger.error("update stream failed; retrying in 1 s", metadata: ["error": "\(error)"])
                consumer?.close()
                consumer = nil
                for _ in 0..<10 where !stop.load(ordering: .relaxed) { Thread.sleep(forTimeInterval: 0.1) }
            }
        }
        consumer?.close()
    }

    static let queueLimitSetting = "queued.max.messages.kbytes"

    private func open() throws(KafkaError) -> Consumer {
        var raw = settings.consumerSettings
        // librdkafka stops fetching while 64 MiB (its default) wait unpolled and looks again only when its
        // broker thread wakes: a replay that applies a little slower than it fetches stalls on it. The
        // update stream allows as much as it may hold before the model is loaded (--kafka-setting overrides).
        if raw[Self.queueLimitSetting] == nil { raw[Self.queueLimitSetting] = String(settings.earlyBufferBytes / 1024) }
        var config = ConsumerConfig(bootstrap: settings.bootstrap, groupID: nil, settings: raw)
        config.autoOffsetReset = .error
        config.fetchWaitMaxMs = 10
        config.enablePartitionEOF = true
        return try Consumer(config)
    }

    /// Positions per partition, kept across reconnects.
    private let next = Mutex<[Int32: Int64]>([:])

    private func consume(_ consumer: Consumer, stop: borrowing Atomic<Bool>) throws(KafkaError) {
        let topic = settings.topic
        let partitions: [Int32]
        if let given = settings.partitions {
            partitions = given
        } else {
            let count = try consumer.partitionCount(topic: topic)
            partitions = (0..<Int32(count)).map { $0 }
        }
        let resumed = next.withLock { $0 }
        var assignments: [PartitionAssignment] = []
        if resumed.isEmpty {
            // First connection: find where each partition starts and ends; publish only when all are known.
            var progress: [PartitionProgress] = []
            var starts: [Int32: Int64] = [:]
            var gaps: [(partition: Int32, start: Int64, low: Int64, reason: String)] = []
            // All partitions' watermarks in two ListOffsets round trips (64 partitions one by one cost 30-100 ms).
            let allMarks = try consumer.watermarks(topic: topic, partitions: partitions)
            for (p, marks) in zip(partitions, allMarks) {
                let start = settings.startOffset(p)
                var from = start
                if marks.low > start {
                    let reason = "\(topic) partition \(p): start offset \(start) is no longer held by the broker (low watermark \(marks.low)); updates \(start)..<\(marks.low) are lost, serving base + updates from \(marks.low)"
                    gaps.append((p, start, marks.low, reason))
                    from = marks.low
                }
                progress.append(PartitionProgress(partition: p, startOffset: start, endOffsetAtStart: marks.high))
                if from > start { progress[progress.count - 1].nextOffset = from }
                assignments.append(PartitionAssignment(topic: topic, partition: p, offset: .offset(from)))
                starts[p] = from
            }
            for gap in gaps {
                logger.error("\(gap.reason)")
                state.recordGap(partition: gap.partition, expected: gap.start, received: gap.low, reason: gap.reason, startOffsetLost: true)
            }
            next.withLock { $0 = starts }
            state.setPartitions(progress)
            logger.info("update stream assigned", metadata: ["topic": "\(topic)", "partitions": "\(progress.map { "\($0.partition)@\($0.startOffset)..<\($0.endOffsetAtStart ?? -1)" })"])
        } else {
            for p in partitions {
                assignments.append(PartitionAssignment(topic: topic, partition: p, offset: .offset(resumed[p] ?? settings.startOffset(p))))
            }
        }
        try consumer.assign(assignments)
        state.recordConnection("connected to kafka \(settings.bootstrap) topic \(topic), partitions \(partitions.map(String.init).joined(separator: ","))")
        var waker = FetchWaker()
        // Held while the latch is closed; released on every exit (before the consumer closes).
        var held: [Held] = []
        var heldBytes = 0
        defer { held.removeAll() }
        var applier = latch.applier
        while !stop.load(ordering: .relaxed) {
            if applier == nil {
                applier = latch.applier
                if applier == nil {
                    if heldBytes >= settings.earlyBufferBytes {
                        applier = latch.wait(timeout: .milliseconds(20))   // full: wait for the model
                        if applier == nil { continue }
                    } else {
                        let lagging = state.laggingPartitions()
                        var received = 0
                        let events = consumer.pollHolding(maxMessages: 256, timeout: min(waker.pollTimeout(lagging: !lagging.isEmpty), .milliseconds(10))) { m in
                            received += 1
                            heldBytes += m.byteCount
                            held.append(.message(m))
                        }
                        if received > 0 { waker.received() }
                        if events.isEmpty, received == 0, let p = waker.due(lagging) { kick(consumer, partition: p) }
                        for event in events { held.append(.event(event)) }
                        earlyHeld.withLock { $0 = (held.count, heldBytes) }
                        continue
                    }
                }
                guard let applier else { continue }
                // The model is loaded: handle what was held, in the order it arrived.
                if !held.isEmpty {
                    let count = held.count
                    logger.info("update stream: applying what was fetched while the model loaded",
                                metadata: ["events": "\(count)", "bytes": "\(heldBytes)"])
                }
                for item in held {
                    switch item {
                    case .message(let h):
                        let m = h.message
                        handle(partition: m.partition, offset: m.offset, key: m.key.map { String(decoding: $0, as: UTF8.self) },
                               value: m.value, timestamp: m.timestamp, topic: topic, applier: applier)
                    case .event(let e):
                        try handle(e, consumer: consumer, topic: topic, applier: applier)
                    }
                }
                held.removeAll()
                heldBytes = 0
            }
            guard let applier else { continue }
            // Behind a known end offset (replay): poll briefly, and wake the fetcher when the queue ran dry.
            let lagging = state.laggingPartitions()
            var received = 0
            // Messages are applied straight from librdkafka's buffer (no copy of the payload).
            let events = consumer.poll(maxMessages: 256, timeout: waker.pollTimeout(lagging: !lagging.isEmpty)) { m in
                received += 1
                handle(partition: m.partition, offset: m.offset, key: m.key.map { String(decoding: $0, as: UTF8.self) },
                       value: m.value, timestamp: m.timestamp, topic: topic, applier: applier)
            }
            if received > 0 { waker.received() }
            if events.isEmpty, received == 0, let p = waker.due(lagging) { kick(consumer, partition: p) }
            for event in events { try handle(event, consumer: consumer, topic: topic, applier: applier) }
        }
    }

    /// librdkafka 2.0 stops fetching a partition while the consumer queue holds
    /// queued.max.messages.kbytes and re-checks only when its broker thread wakes (up to 1 s
    /// later); a request to the partition's leader wakes that thread now. The answer also
    /// refreshes the partition's known end offset.
    private func kick(_ consumer: Consumer, partition p: Int32) {
        if let marks = try? consumer.watermarks(topic: settings.topic, partition: p, timeout: .seconds(1)) {
            state.recordEndOffset(partition: p, end: marks.high)
        }
    }

    /// A non-message event of a poll (or an owned message).
    private func handle(_ event: ConsumerEvent, consumer: Consumer, topic: String, applier: UpdateApplier) throws(KafkaError) {
        switch event {
        case .message(let m):
            // The borrowing poll hands messages to its body; an owned one is handled the same way.
            m.value.withUnsafeBytes { value in
                handle(partition: m.partition, offset: m.offset, key: m.key.map { String(decoding: $0, as: UTF8.self) },
                       value: value, timestamp: m.timestamp, topic: topic, applier: applier)
            }
        case .partitionEOF(_, let partition, let offset):
            state.recordEndOffset(partition: partition, end: offset)
        case .error(let e) where e.isOffsetOutOfRange:
            try recover(consumer, error: e)
        case .error(let e):
            state.recordError("kafka: \(e)")
            logger.warning("update consumer error", metadata: ["error": "\(e)"])
        }
    }

    private func handle(partition: Int32, offset: Int64, key: String?, value: UnsafeRawBufferPointer, timestamp: Int64?, topic: String,
                        applier: UpdateApplier) {
        let expected = next.withLock { $0[partition] } ?? settings.startOffset(partition)
        if offset < expected { return }  // already applied (re-delivery after a reconnect)
        if offset > expected {
            let reason = "\(topic) partition \(partition): offsets \(expected)..<\(offset) are missing (dropped by the broker before they were applied)"
            logger.error("\(reason)")
            state.recordGap(partition: partition, expected: expected, received: offset, reason: reason,
                            startOffsetLost: expected == settings.startOffset(partition))
        }
        let origin = UpdateApplier.Origin(source: topic, partition: partition, offset: offset,
                                          key: key,
                                          timestamp: timestamp.map { Double($0) / 1000 })
        applier.apply(borrowing: value, origin: origin)
        next.withLock { $0[partition] = offset + 1 }
    }

    /// The wanted offset is gone: report the gap and continue from the low watermark.
    private func recover(_ consumer: Consumer, error: KafkaError) throws(KafkaError) {
        guard let partition = error.partition else {
            state.recordError("kafka: \(error)")
            return
        }
        let expected = next.withLock { $0[partition] } ?? settings.startOffset(partition)
        let marks = try consumer.watermarks(topic: settings.topic, partition: partition)
        let target: Int64
        if expected < marks.low {
            let reason = "\(settings.topic) partition \(partition): offset \(expected) is out of range (broker holds \(marks.low)..<\(marks.high)); offsets \(expected)..<\(marks.low) are lost, continuing from \(marks.low)"
            logger.error("\(reason)")
            state.recordGap(partition: partition, expected: expected, received: marks.low, reason: reason,
                            startOffsetLost: expected == settings.startOffset(partition))
            next.withLock { $0[partition] = marks.low }
            target = marks.low
        } else {
            // Beyond the end (e.g. a start offset past the high watermark): wait at the end.
            state.recordError("\(settings.topic) partition \(partition): offset \(expected) is beyond the end \(marks.high)")
            target = min(expected, marks.high)
        }
        try consumer.seek(topic: settings.topic, partition: partition, offset: .offset(target))
    }
}
