import FG
import Foundation
import Logging
import Postgres
import Synchronization

/// Keeps an ``ItemStore`` current from a PostgreSQL (or Hologres) table on its own thread:
/// a full load through a server-side cursor at start, then every `refreshSeconds` the rows
/// whose time key is newer than the newest seen minus the overlap, swapped in per row; a full
/// reconcile every `reconcileSeconds` (removes deleted items). When the database is down or
/// slow, serving goes on with the cached items; the outage is logged once and retried with backoff.
public final class PostgresItemSource: Sendable {
    public let settings: ItemSourceSettings
    public let store: ItemStore
    let state: ItemSourceState
    let numericFields: Set<String>
    let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    init(settings: ItemSourceSettings, store: ItemStore, numericFields: Set<String>, state: ItemSourceState, logger: Logger) {
        self.settings = settings
        self.store = store
        self.numericFields = numericFields
        self.state = state
        self.logger = logger
    }

    /// A source outside a processor (benchmarks, tools): no metrics, no raw_feature checks.
    public convenience init(settings: ItemSourceSettings, store: ItemStore, logger: Logger) {
        self.init(settings: settings, store: store, numericFields: [],
                  state: ItemSourceState(source: settings.redacted, kind: "postgres", metrics: nil), logger: logger)
    }

    /// One full load on the calling thread, on its own connection; returns the rows held.
    public func loadOnce() throws(ItemSourceError) -> Int {
        var engine = Engine(source: self)
        try engine.step()
        return store.count
    }

    /// Rows skipped so far (values that could not be converted).
    public var skippedRows: Int { state.snapshot.skippedRows }

    /// Start the loader thread (once).
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            var engine = Engine(source: self)
            engine.run()
            exited.signal()
        }
        thread.name = "odl-item-source"
        thread.start()
    }

    /// Ask the thread to stop and wait for it (up to `timeout` seconds: a query in flight ends first).
    public func stop(timeout: Double = 15) {
        stopRequested.store(true, ordering: .releasing)
        guard started.load(ordering: .acquiring) else { return }
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            logger.warning("item source thread still busy after \(timeout) s at shutdown")
        } else {
            exited.signal()  // a second stop() returns at once
        }
    }

    var stopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Sleep up to `seconds`, waking early on stop.
    func pause(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !stopping, Date() < end { Thread.sleep(forTimeInterval: min(0.02, max(0, end.timeIntervalSinceNow))) }
    }

    /// The loader's mutable state; lives on the loader thread only.
    struct Engine {
        let source: PostgresItemSource
        var connection: PGConnection?
        var plan: ItemColumnPlan?
        /// Newest time key seen (microseconds since 1970).
        var newest: Int64?
        var lastFullLoad = Date.distantPast
        var loaded = false
        var consecutiveFailures = 0
        var outageStarted: Date?

        init(source: PostgresItemSource) { self.source = source }

        var settings: ItemSourceSettings { source.settings }

        mutating func run() {
            while !source.stopping {
                do {
                    try step()
                    if consecutiveFailures > 0 {
                        let seconds = outageStarted.map { Date().timeIntervalSince($0) } ?? 0
                        source.logger.notice("item source \(settings.redacted) recovered after \(consecutiveFailures) failed attempts (\(String(format: "%.1f", seconds)) s)")
                        consecutiveFailures = 0
                        outageStarted = nil
                    }
                    source.pause(settings.refreshSeconds)
                } catch {
                    consecutiveFailures += 1
                    source.state.failed(error.description)
                    if consecutiveFailures == 1 {
                        outageStarted = Date()
                        source.logger.error("item source \(settings.redacted): \(error.description); serving continues with \(source.store.count) cached items, retrying with backoff (logged once per outage)")
                    }
                    if !(connection?.isHealthy ?? false) { connection = nil }
                    plan = nil
                    let backoff = min(30, settings.refreshSeconds * pow(2, Double(min(consecutiveFailures - 1, 10))))
                    source.pause(max(0.05, backoff))
                }
            }
            connection = nil
        }

        /// Connect if needed, then a full load (first time, or reconcile due) or a refresh.
        mutating func step() throws(ItemSourceError) {
            if connection == nil {
                do {
                    connection = try PGConnection(parameters: settings.connectionParameters)
                } catch {
                    throw .database(error)
                }
            }
            guard let connection else { return }
            if plan == nil { plan = try describe(connection) }
            guard let plan else { return }
            let reconcileDue = settings.reconcileSeconds.map { Date().timeIntervalSince(lastFullLoad) >= $0 } ?? false
            if !loaded || reconcileDue {
                try fullLoad(connection, plan)
            } else if plan.timeType != nil {
                try refresh(connection, plan)
            }
        }

        func describe(_ connection: PGConnection) throws(ItemSourceError) -> ItemColumnPlan {
            let result: PGResult
            do {
                result = try connection.query("SELECT * FROM \(settings.quotedTable) LIMIT 0")
            } catch {
                throw .database(error)
            }
            let columns = (0..<result.columnCount).map { (name: result.columnName($0), type: result.columnType($0)) }
            let plan = try ItemColumnPlan(settings: settings, columns: columns, fields: source.store.fields, numericFields: source.numericFields)
            if !plan.missingFields.isEmpty {
                source.logger.warning("item table \(settings.table) has no column for item features \(plan.missingFields.joined(separator: ", ")); they stay missing")
            }
            source.state.update { $0.missingFields = plan.missingFields }
            return plan
        }

        mutating func fullLoad(_ connection: PGConnection, _ plan: ItemColumnPlan) throws(ItemSourceError) {
            let began = Date()
            var storage = source.store.makeStorage()
            var newestSeen: Int64?
            let fieldCount = source.store.fields.count
            do {
                try connection.forEachChunk(plan.selectSQL, chunkRows: settings.chunkRows) { chunk in
                    for row in 0..<chunk.rowCount {
                        switch plan.convert(chunk, row: row, fieldCount: fieldCount) {
                        case .success(let r):
                            if let t = r.timeMicros { newestSeen = max(newestSeen ?? t, t) }
                            if !r.deleted { storage.upsert(id: r.id, values: r.values) }
                        case .failure(let problem):
                            skip(problem, plan)
                        }
                    }
                }
            } catch {
                throw .database(error)
            }
            let before = source.store.count
            storage.shrinkToFit()
            source.store.replaceAll(with: storage)
            if loaded { source.state.update { $0.removed += max(0, before - storage.count) } }
            newest = newestSeen ?? newest
            loaded = true
            lastFullLoad = Date()
            let seconds = Date().timeIntervalSince(began)
            source.state.refreshed(rows: storage.count, newestMicros: newestSeen, seconds: seconds, fullLoad: true)
            source.logger.info("item source full load", metadata: [
                "table": "\(settings.table)", "rows": "\(storage.count)", "seconds": "\(String(format: "%.3f", seconds))",
                "bytes": "\(source.store.footprintBytes())",
            ])
        }

        mutating func refresh(_ connection: PGConnection, _ plan: ItemColumnPlan) throws(ItemSourceError) {
            guard let timeKey = settings.timeKey, let timeType = plan.timeType else { return }
            let began = Date()
            let column = ItemSourceSettings.quote(timeKey)
            var sql = plan.selectSQL
            var parameters: [PGParameter] = []
            if let newest {
                // Rows newer than the newest seen, or than the server's clock minus the overlap,
                // whichever is earlier: late commits near now are re-read, an old bulk load is not.
                let overlap = PGParameter.float64(settings.overlapSeconds)
                switch timeType {
                case PGType.float8:
                    sql += " WHERE \(column) > LEAST($1, extract(epoch FROM now())::float8 - $2)"
                    parameters = [.float64(Double(newest) / 1e6), overlap]
                case PGType.int4, PGType.int8:
                    sql += " WHERE \(column) > LEAST($1, (extract(epoch FROM now()) - $2)::bigint)"
                    parameters = [.int64(newest / 1_000_000), overlap]
                case PGType.timestamp:
                    sql += " WHERE \(column) > LEAST($1, LOCALTIMESTAMP - $2 * interval '1 second')"
                    parameters = [.int64(newest - PGBinary.epochOffsetMicros, type: timeType), overlap]
                default:
                    sql += " WHERE \(column) > LEAST($1, now() - $2 * interval '1 second')"
                    parameters = [.int64(newest - PGBinary.epochOffsetMicros, type: timeType), overlap]
                }
            } else {
                sql += " WHERE \(column) IS NOT NULL"
            }
            var newestSeen: Int64?
            let fieldCount = source.store.fields.count
            do {
                try connection.forEachChunk(sql, parameters: parameters, chunkRows: settings.chunkRows) { chunk in
                    var rows: [(id: String, values: [FeatureValue?])] = []
                    var removed: [String] = []
                    for row in 0..<chunk.rowCount {
                        switch plan.convert(chunk, row: row, fieldCount: fieldCount) {
                        case .success(let r):
                            if let t = r.timeMicros { newestSeen = max(newestSeen ?? t, t) }
                            if r.deleted { removed.append(r.id) } else { rows.append((r.id, r.values)) }
                        case .failure(let problem):
                            skip(problem, plan)
                        }
                    }
                    source.store.upsert(rows)
                    if !removed.isEmpty {
                        let before = source.store.count
                        source.store.remove(removed)
                        let gone = before - source.store.count
                        if gone > 0 { source.state.update { $0.removed += gone } }
                    }
                }
            } catch {
                throw .database(error)
            }
            if let newestSeen { newest = max(newest ?? newestSeen, newestSeen) }
            source.state.refreshed(rows: source.store.count, newestMicros: newestSeen, seconds: Date().timeIntervalSince(began), fullLoad: false)
        }

        /// Count a row that could not be converted; the first few per run are logged.
        func skip(_ problem: ItemColumnPlan.RowProblem, _ plan: ItemColumnPlan) {
            let message = "item table \(plan.table) key \(problem.key) column \(problem.column): \(problem.reason); row skipped"
            source.state.skipped(message)
            if source.state.snapshot.skippedRows <= 20 { source.logger.warning("\(message)") }
        }
    }
}
