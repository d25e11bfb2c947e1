import Foundation
import Synchronization

/// `/status.items`: where item features come from and how current they are.
public struct ItemSourceSnapshot: Sendable, Codable, Equatable {
    /// `postgres://user@host:port/db?table=...` (no password) or the file path.
    public var source: String
    public var kind: String
    /// True once the first full load finished.
    public var loaded: Bool
    /// Items held now.
    public var rows: Int
    /// Time of the last successful refresh (or full load), ISO 8601.
    public var lastRefresh: String?
    /// Seconds from now back to the newest time key seen (how far serving trails the table).
    public var lag: Double?
    /// Failed refreshes or loads (connection, query) since start.
    public var errors: Int
    public var lastError: String?
    /// Rows skipped because a value could not be converted; `lastSkipped` names table, key and column.
    public var skippedRows: Int
    public var lastSkipped: String?
    public var fullLoads: Int
    public var refreshes: Int
    /// Seconds the last full load took, and its rate.
    public var lastFullLoadSeconds: Double?
    public var lastFullLoadRowsPerSecond: Double?
    /// Items removed (deleted column or reconcile).
    public var removed: Int
    /// Feature fields the table has no column for (always missing).
    public var missingFields: [String]
}

/// Thread-safe holder of the item source's status and metrics.
final class ItemSourceState: Sendable {
    private let snapshotStore: Mutex<ItemSourceSnapshot>
    private let newestTimeMicros = Mutex<Int64?>(nil)
    private let lastRefreshDate = Mutex<Date?>(nil)
    let metrics: ProcessorMetrics?

    init(source: String, kind: String, metrics: ProcessorMetrics?) {
        snapshotStore = Mutex(ItemSourceSnapshot(source: source, kind: kind, loaded: false, rows: 0, lastRefresh: nil, lag: nil,
                                                 errors: 0, lastError: nil, skippedRows: 0, lastSkipped: nil, fullLoads: 0,
                                                 refreshes: 0, lastFullLoadSeconds: nil, lastFullLoadRowsPerSecond: nil,
                                                 removed: 0, missingFields: []))
        self.metrics = metrics
    }

    var snapshot: ItemSourceSnapshot {
        var s = snapshotStore.withLock { $0 }
        if let newest = newestTimeMicros.withLock({ $0 }) {
            s.lag = max(0, Date().timeIntervalSince1970 - Double(newest) / 1e6)
        }
        if let date = lastRefreshDate.withLock({ $0 }) {
            s.lastRefresh = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
        }
        return s
    }

    var loaded: Bool { snapshotStore.withLock { $0.loaded } }

    func update(_ body: (inout ItemSourceSnapshot) -> Void) { snapshotStore.withLock { body(&$0) } }

    /// A refresh (or full load) finished: rows now held, newest time key, how long it took.
    func refreshed(rows: Int, newestMicros: Int64?, seconds: Double, fullLoad: Bool) {
        lastRefreshDate.withLock { $0 = Date() }
        if let newestMicros { newestTimeMicros.withLock { $0 = max($0 ?? newestMicros, newestMicros) } }
        snapshotStore.withLock { s in
            s.rows = rows
            if fullLoad {
                s.loaded = true
                s.fullLoads += 1
                s.lastFullLoadSeconds = seconds
                s.lastFullLoadRowsPerSecond = seconds > 0 ? Double(rows) / seconds : nil
            } else {
                s.refreshes += 1
            }
        }
        metrics?.itemRows.record(rows)
        metrics?.itemRefreshSeconds.recordNanoseconds(Int64(seconds * 1e9))
    }

    func failed(_ message: String) {
        snapshotStore.withLock { s in
            s.errors += 1
            s.lastError = message
        }
        metrics?.itemRefreshErrors.increment()
    }

    func skipped(_ message: String) {
        snapshotStore.withLock { s in
            s.skippedRows += 1
            s.lastSkipped = message
        }
        metrics?.itemRowsSkipped.increment()
    }
}
