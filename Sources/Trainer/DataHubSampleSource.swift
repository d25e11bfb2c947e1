import DataHub
import Foundation
import Logging

/// `datahub_train_input`: reads every shard of a DataHub topic through the REST API. TUPLE
/// records become sample lines (the schema's fields in the config's input-field order, joined
/// by `data_config.separator`); BLOB records carry the sample line itself, as Kafka messages do.
///
/// Positions: a record's `offset` is its sequence + 1, the next unread sequence of its shard
/// (shard ids are the partition numbers), so a saved position is exactly where a restart
/// resumes: no record is trained twice or skipped.
///
/// Split and merge: a CLOSED shard is read to its end (until the endpoint says it is sealed);
/// its children, found by listing the shards again, are read only once all their parents are
/// sealed, so each record is trained once and a key's records stay in order.
public final class DataHubSampleSource: SampleSource {
    public let project: String
    public let topic: String
    let client: DataHubClient
    let logger: Logger
    let info: TopicInfo
    /// For TUPLE topics: the schema index of each config input field.
    let fieldOrder: [Int]
    let separator: String

    struct Reader {
        var shard: String
        var cursor: String
        /// Records below this sequence are dropped (a resume that had to start one record early).
        var skipBelow: Int64
        var buffer: [DataHubRecord] = []
        var bufferIndex = 0
        /// Shards this one was split or merged from (read first).
        var parents: [String] = []
        /// Read to the end of a CLOSED shard: nothing more will come.
        var sealed = false
    }

    var readers: [Reader] = []
    /// Saved next-unread sequences of the run's start (for shards found later, e.g. children).
    var savedStarts: [Int32: Int64] = [:]
    var lastShardList = 0.0
    /// NextCursor of recent batches per shard, by the sequence they point at (for checkpoints).
    var batchEndCursors: [Int32: [Int64: String]] = [:]
    /// Seconds between ListShard calls looking for split or merged shards.
    static let shardListInterval = 1.0
    private var roundRobin = 0
    private var retryAt = 0.0
    private var retryDelay = 0.2
    private var lastOutageLog = -1e9
    private var outageSince: Double?
    /// Records whose data did not decode or did not fit the schema (skipped, logged with shard and sequence).
    public private(set) var malformedRecords = 0
    /// Records lost to expiry before they were read (reported gaps).
    public private(set) var lostRecords: Int64 = 0

    var sourceName: String { "datahub project \(project) topic \(topic) at \(client.endpoint)" }

    /// Connects and reads the topic's description. A refused credential is fatal and names the project and topic.
    public init(endpoint: String, accessId: String, accessKey: String, project: String, topic: String,
                inputFields: [String], separator: String, logger: Logger) throws {
        self.project = project
        self.topic = topic
        self.logger = logger
        self.separator = separator
        client = DataHubClient(endpoint: endpoint, accessId: accessId, accessKey: accessKey, retries: 4) { error, delay in
            logger.warning("\(error); retrying in \(String(format: "%.1f", delay)) s")
        }
        let source = "datahub project \(project) topic \(topic) at \(client.endpoint)"
        do {
            info = try client.getTopic(project: project, topic: topic)
        } catch {
            throw Self.fatal(error, source: source, accessId: accessId)
        }
        if info.recordType == .tuple {
            let names = info.schema?.fields.map(\.name) ?? []
            var order: [Int] = []
            for f in inputFields {
                guard let i = names.firstIndex(of: f) else {
                    throw TrainerError.config(field: "datahub_train_input.topic",
                                              reason: "TUPLE topic \(project)/\(topic) has no field \"\(f)\" of data_config.input_fields (schema: \(names))")
                }
                order.append(i)
            }
            fieldOrder = order
        } else {
            fieldOrder = []
        }
    }

    static func fatal(_ error: DataHubError, source: String, accessId: String) -> TrainerError {
        if error.isCredentialError {
            return .input(source: source, reason: "credentials refused for akId \(accessId) (check akId/akSecret and the account's DataHub permission): \(error.code) \(error.message)")
        }
        return .input(source: source, reason: "\(error)")
    }

    /// Shard ids of the topic as partition numbers.
    public func partitions() throws -> [Int32] {
        do {
            return try client.listShards(project: project, topic: topic).map { s in
                guard let p = Int32(s.id) else {
                    throw TrainerError.input(source: sourceName, reason: "shard id \"\(s.id)\" is not a number")
                }
                return p
            }
        } catch let e as DataHubError {
            throw Self.fatal(e, source: sourceName, accessId: client.accessId)
        }
    }

    /// The next unread sequence at a configured cursor (`offset_info` cursor form).
    public func sequence(atCursor cursor: String, shard: Int32) throws -> Int64 {
        do {
            let batch = try client.getRecords(project: project, topic: topic, shard: String(shard), cursor: cursor, limit: 1)
            if let r = batch.records.first { return r.sequence }
            return try endSequence(String(shard))
        } catch let e as DataHubError {
            throw TrainerError.config(field: "datahub_train_input.offset_info",
                                      reason: "cursor \(cursor) of shard \(shard) is not usable: \(e)")
        }
    }

    /// The first sequence written at or after `unixMillis` (the end of the shard when none is).
    public func sequence(atTime unixMillis: Int64, shard: Int32) throws -> Int64 {
        do {
            let c = try client.getCursor(project: project, topic: topic, shard: String(shard), .systemTime(unixMillis))
            return c.sequence
        } catch let e as DataHubError where e.code == "SeekOutOfRange" {
            return try endSequence(String(shard))
        } catch let e as DataHubError {
            throw Self.fatal(e, source: sourceName, accessId: client.accessId)
        }
    }

    /// Sequence after the newest record (0 for an empty shard).
    func endSequence(_ shard: String) throws(DataHubError) -> Int64 {
        let latest = try client.getCursor(project: project, topic: topic, shard: shard, .latest)
        let batch = try client.getRecords(project: project, topic: topic, shard: shard, cursor: latest.cursor, limit: 1)
        return (batch.records.first?.sequence).map { $0 + 1 } ?? max(0, latest.sequence)
    }

    /// Starts reading each shard at its resolved next-unread sequence, at the saved cursor when one is given
    /// (a refused one falls back to that sequence, as an expired cursor does).
    public func start(_ starts: [PartitionStart], cursors: [Int32: String] = [:]) throws {
        readers = []
        do {
            let parents = Dictionary(try client.listShards(project: project, topic: topic).map { ($0.id, $0.parentIds) }) { a, _ in a }
            for s in starts {
                var reader: Reader
                if let cursor = cursors[s.partition] {
                    reader = Reader(shard: String(s.partition), cursor: cursor, skipBelow: s.offset)
                    logger.info("\(sourceName) shard \(s.partition) resumes at the checkpoint's cursor \(cursor) (sequence \(s.offset))")
                } else {
                    reader = try open(shard: String(s.partition), next: s.offset, reportGap: s.rule != .beginning)
                }
                reader.parents = parents[reader.shard] ?? []
                readers.append(reader)
            }
        } catch {
            throw Self.fatal(error, source: sourceName, accessId: client.accessId)
        }
        lastShardList = Date().timeIntervalSince1970
    }

    /// A reader whose first record is sequence `next` (or the oldest kept one, reporting the gap).
    func open(shard: String, next: Int64, reportGap: Bool = true) throws(DataHubError) -> Reader {
        let oldest = try client.getCursor(project: project, topic: topic, shard: shard, .oldest)
        if next <= oldest.sequence {
            if next < oldest.sequence, reportGap {
                lostRecords += oldest.sequence - next
                logger.error("\(sourceName) shard \(shard): records \(next)..<\(oldest.sequence) expired before they were read; continuing at \(oldest.sequence)")
            }
            return Reader(shard: shard, cursor: oldest.cursor, skipBelow: next)
        }
        do {
            let c = try client.getCursor(project: project, topic: topic, shard: shard, .sequence(next))
            return Reader(shard: shard, cursor: c.cursor, skipBelow: next)
        } catch where error.code == "SeekOutOfRange" {
            // `next` is not written yet: start at the record before it and drop that one.
            let c = try client.getCursor(project: project, topic: topic, shard: shard, .sequence(next - 1))
            return Reader(shard: shard, cursor: c.cursor, skipBelow: next)
        }
    }

    public var isExhausted: Bool { false }
    public var hasOffsets: Bool { true }

    public func poll(maxRecords: Int, timeout: Double) throws -> [SampleRecord] {
        let deadline = Date().timeIntervalSince1970 + timeout
        while true {
            var out: [SampleRecord] = []
            drain(into: &out, max: maxRecords)
            if !out.isEmpty { return out }
            let now = Date().timeIntervalSince1970
            if now >= retryAt {
                let fetched = try fetch(limit: max(1, min(maxRecords * 4, 1000)))
                if fetched { continue }
            }
            let left = deadline - Date().timeIntervalSince1970
            if left <= 0 { return [] }
            Thread.sleep(forTimeInterval: min(left, 0.05))
        }
    }

    /// Buffered records in round-robin order across shards.
    private func drain(into out: inout [SampleRecord], max: Int) {
        guard !readers.isEmpty else { return }
        var idle = 0
        while out.count < max, idle < readers.count {
            let i = roundRobin % readers.count
            roundRobin += 1
            guard readers[i].bufferIndex < readers[i].buffer.count else { idle += 1; continue }
            idle = 0
            let r = readers[i].buffer[readers[i].bufferIndex]
            readers[i].bufferIndex += 1
            let partition = Int32(readers[i].shard) ?? 0
            switch line(r) {
            case .success(let value):
                out.append(SampleRecord(partition: partition, offset: r.sequence + 1, key: r.attributes["key"].map { Array($0.utf8) }, value: value))
            case .failure(let why):
                malformedRecords += 1
                logger.warning("bad record skipped at \(sourceName) shard \(readers[i].shard) sequence \(r.sequence): \(why.reason)")
            }
        }
    }

    struct BadRecord: Error { var reason: String }

    /// The sample line of a record.
    func line(_ r: DataHubRecord) -> Result<[UInt8], BadRecord> {
        switch r.data {
        case .blob(let b): return .success(b)
        case .malformed(let why): return .failure(BadRecord(reason: why))
        case .tuple(let values):
            guard values.count == info.schema?.fields.count else {
                return .failure(BadRecord(reason: "\(values.count) values for a schema of \(info.schema?.fields.count ?? 0) fields"))
            }
            return .success(Array(fieldOrder.map { values[$0] ?? "" }.joined(separator: separator).utf8))
        }
    }

    /// One GetRecords per shard whose buffer is empty; true when something arrived.
    private func fetch(limit: Int) throws -> Bool {
        var got = false
        var idle = false
        for i in readers.indices where readers[i].bufferIndex >= readers[i].buffer.count && !readers[i].sealed && parentsSealed(readers[i]) {
            let shard = readers[i].shard
            do {
                let batch = try client.getRecords(project: project, topic: topic, shard: shard, cursor: readers[i].cursor, limit: limit)
                let skip = readers[i].skipBelow
                readers[i].buffer = batch.records.filter { $0.sequence >= skip }
                readers[i].bufferIndex = 0
                readers[i].cursor = batch.nextCursor
                if let last = batch.records.last {
                    readers[i].skipBelow = max(skip, last.sequence + 1)
                    remember(cursor: batch.nextCursor, shard: shard, next: last.sequence + 1)
                }
                got = got || !readers[i].buffer.isEmpty
                idle = idle || batch.records.isEmpty
                recovered()
            } catch where error.isCredentialError {
                throw Self.fatal(error, source: sourceName, accessId: client.accessId)
            } catch where error.isShardSealed {
                readers[i].sealed = true
                idle = true
                logger.info("\(sourceName) shard \(shard) is CLOSED and read to its end (sequence \(readers[i].skipBelow)); continuing with its children")
            } catch where error.isCursorError {
                // The cursor expired (or the endpoint no longer knows it): resume at the next unread sequence, reporting any gap.
                logger.error("\(sourceName) shard \(shard): cursor refused (\(error.code): \(error.message)); reopening at sequence \(readers[i].skipBelow)")
                do { readers[i] = try open(shard: shard, next: readers[i].skipBelow) } catch { outage(error); return got }
            } catch {
                outage(error)
                return got
            }
        }
        if idle || readers.allSatisfy(\.sealed) { try followShardChanges() }
        return got
    }

    /// Reports an unreachable or throttled endpoint (once, then every 10 s) and backs off.
    private func outage(_ error: DataHubError) {
        let now = Date().timeIntervalSince1970
        if outageSince == nil { outageSince = now }
        if now - lastOutageLog >= 10 {
            lastOutageLog = now
            logger.error("\(sourceName) unavailable for \(String(format: "%.1f", now - (outageSince ?? now))) s: \(error); retrying with backoff")
        }
        retryAt = now + retryDelay
        retryDelay = min(retryDelay * 2, 5)
    }

    private func recovered() {
        guard let since = outageSince else { return }
        logger.info("\(sourceName) reachable again after \(String(format: "%.1f", Date().timeIntervalSince1970 - since)) s")
        outageSince = nil
        retryDelay = 0.2
        lastOutageLog = -1e9
    }

    public func lag(positions: [Int32: Int64]) -> Int64? { nil }
    public func commit(positions: [Int32: Int64]) {}

    public func describe(_ record: SampleRecord) -> String {
        "\(sourceName) shard \(record.partition) sequence \(record.offset - 1)"
    }
}
