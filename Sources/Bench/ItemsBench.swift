import Foundation
import Logging
import Postgres
import Processor
import Synchronization

/// `odl bench items`: the item feature cache on a real PostgreSQL it starts itself. Full
/// load rate (server-side cursor -> compact cache) beside `COPY ... TO STDOUT` of the same
/// rows (the bare server + libpq floor), bytes per item beside the raw column bytes, and the
/// refresh latency from an `UPDATE`'s commit to the new score answered over HTTP.
package struct ItemsBench {
    package var rows: Int = 1_000_000
    package var repeats: Int = 3
    package var export: String
    package var trials: Int = 40
    package var refresh: Double = 1
    package var peerCommand: String?

    package init(rows: Int = 1_000_000, repeats: Int = 3, export: String, trials: Int = 40, refresh: Double = 1,
                 peerCommand: String? = nil) {
        self.rows = rows
        self.repeats = repeats
        self.export = export
        self.trials = trials
        self.refresh = refresh
        self.peerCommand = peerCommand
    }

    /// The 10 feature columns (types mixed as in a real item table) and their SQL.
    static let columns: [(name: String, type: String, value: String)] = [
        ("i0", "text", "'c' || (g % 1000)"), ("i1", "text", "'brand' || (g % 5000)"), ("i2", "text", "'shop' || (g % 20000)"),
        ("i3", "varchar(32)", "'city' || (g % 300)"), ("i4", "bigint", "g * 7"), ("i5", "bigint", "g % 100000"),
        ("i6", "integer", "(g % 365)"), ("i7", "integer", "(g % 50)"), ("i8", "double precision", "(g % 997) * 0.25"),
        ("i9", "text[]", "ARRAY['t' || (g % 40), 't' || (g % 7)]"),
    ]

    package func run() throws {
        guard rows > 0, repeats > 0, trials > 0, refresh > 0 else { throw BenchError("--rows, --repeats, --trials, --refresh must be positive") }
        let server = try LocalPostgresServer()
        defer { server.stop() }
        let db = try server.connect()
        let t0 = BenchSupport.now()
        let columnSQL = Self.columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")
        try db.execute("CREATE TABLE bench_items (item_id text PRIMARY KEY, \(columnSQL), updated_at timestamptz NOT NULL)")
        try db.execute("INSERT INTO bench_items SELECT 'it' || g, \(Self.columns.map(\.value).joined(separator: ", ")), now() - interval '1 day' FROM generate_series(1, \(rows)) g")
        // The refresh reads `time_key > ...` every interval: index it, as an incrementally synced table is.
        try db.execute("CREATE INDEX bench_items_updated_at ON bench_items (updated_at)")
        try db.execute("VACUUM ANALYZE bench_items")
        let fillSeconds = BenchSupport.now() - t0
        let raw = try db.query("""
            SELECT (sum(octet_length(item_id)) + sum(octet_length(i0)) + sum(octet_length(i1)) + sum(octet_length(i2)) + sum(octet_length(i3))
                    + 8 * 3 * count(*) + 4 * 2 * count(*)
                    + sum(octet_length(i9[1])) + sum(octet_length(i9[2])))::float8 FROM bench_items
            """)
        let rawBytes = try PGBinary.float(raw.bytes(row: 0, column: 0))

        var logger = Logger(label: "bench.items")
        logger.logLevel = .warning
        var settings = try ItemSourceSettings.parse(server.url + "?table=bench_items&key=item_id&time_key=updated_at", environment: [:])
        settings.password = server.password
        let fields = Self.columns.map(\.name)
        var loadSeconds: [Double] = [], copySeconds: [Double] = [], peerSeconds: [Double] = []
        var copyBytes = 0
        var store = ItemStore(fields: fields)
        let rssBefore = BenchSupport.residentBytes()
        for _ in 0..<repeats {
            store = ItemStore(fields: fields)
            let source = PostgresItemSource(settings: settings, store: store, logger: logger)
            var t = BenchSupport.now()
            let loaded = try source.loadOnce()
            loadSeconds.append(BenchSupport.now() - t)
            guard loaded == rows, source.skippedRows == 0 else { throw BenchError("loaded \(loaded) of \(rows) rows, \(source.skippedRows) skipped") }
            t = BenchSupport.now()
            copyBytes = try db.copyOut("COPY bench_items TO STDOUT") { _ in }
            copySeconds.append(BenchSupport.now() - t)
            if let peerCommand {
                peerSeconds.append(try runPeer(peerCommand, server: server))
            }
        }
        let rssAfter = BenchSupport.residentBytes()
        let footprint = store.footprintBytes()
        let latency = try refreshLatency(server: server, db: db)
        let load = Double(rows) / BenchSupport.median(loadSeconds)
        let copy = Double(rows) / BenchSupport.median(copySeconds)
        var peer: [String: Any] = [:]
        if !peerSeconds.isEmpty {
            let peerRate = Double(rows) / BenchSupport.median(peerSeconds)
            peer = ["peer_seconds": peerSeconds, "peer_rows_per_s": peerRate, "load_vs_peer": load / peerRate]
        }
        try BenchSupport.emit(peer.merging([
            "rows": rows, "features": fields.count, "fill_seconds": fillSeconds,
            "load_seconds": loadSeconds, "copy_seconds": copySeconds, "copy_bytes": copyBytes,
            "load_rows_per_s": load, "copy_rows_per_s": copy, "load_vs_copy": load / copy,
            "bytes_per_item": Double(footprint) / Double(rows), "raw_bytes_per_item": rawBytes / Double(rows),
            "rss_delta_per_item": Double(rssAfter - rssBefore) / Double(rows),
            "refresh_seconds": refresh, "latency_trials": latency.count,
            "refresh_latency_p50_ms": BenchSupport.percentile(latency, 50) * 1000,
            "refresh_latency_p99_ms": BenchSupport.percentile(latency, 99) * 1000,
            "refresh_latency_max_ms": (latency.max() ?? 0) * 1000,
        ]) { a, _ in a })
        withExtendedLifetime(store) {}
    }

    /// Run the peer client once over the same table; its own timing (query sent -> last row
    /// decoded), checked to have read every row.
    func runPeer(_ command: String, server: LocalPostgresServer) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = ["bench_items"]
        var env = ProcessInfo.processInfo.environment
        env["PGHOST"] = "127.0.0.1"
        env["PGPORT"] = String(server.port)
        env["PGUSER"] = server.user
        env["PGPASSWORD"] = server.password
        env["PGDATABASE"] = server.database
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(command) exited \(process.terminationStatus)") }
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let peerRows = object["rows"] as? Int, let seconds = object["seconds"] as? Double else {
            throw BenchError("\(command) printed no JSON result: \(text.suffix(300))")
        }
        guard peerRows == rows else { throw BenchError("\(command) read \(peerRows) of \(rows) rows") }
        return seconds
    }

    /// Serve `export` with the table as item source; per trial, UPDATE one item's feature,
    /// commit, and poll /predict until its score changes.
    func refreshLatency(server: LocalPostgresServer, db: PGConnection) throws -> [Double] {
        let pwFile = server.folder + "/bench-pw"
        try server.password.write(toFile: pwFile, atomically: true, encoding: .utf8)
        var options = ServeOptions(model: export)
        options.host = "127.0.0.1"
        options.port = 0
        options.noUpdates = true
        options.itemSource = server.url + "?table=bench_items&key=item_id&time_key=updated_at"
        options.itemPasswordFile = pwFile
        options.itemRefreshSeconds = refresh
        var logger = Logger(label: "bench.items.serve")
        logger.logLevel = .warning
        let processor = try ProcessorServer(options: options, logger: logger)
        let port = BenchPort()
        let task = Task { try await processor.run { _, p in port.set(p) } }
        defer {
            let done = DispatchSemaphore(value: 0)
            Task {
                await processor.shutdown()
                _ = try? await task.value
                done.signal()
            }
            done.wait()
        }
        let bound = try port.wait(seconds: 60)
        let client = try BenchHTTPClient(url: "http://127.0.0.1:\(bound)")
        let deadline = BenchSupport.now() + 600
        while BenchSupport.now() < deadline {
            if try client.request(method: "GET", path: "/readyz").status == 200 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        var latencies: [Double] = []
        for trial in 0..<trials {
            let item = "it\(1 + (trial * 7919) % rows)"
            let body = Array("{\"user_features\": {}, \"item_ids\": [\"\(item)\"]}".utf8)
            let before = try client.request(method: "POST", path: "/predict", contentType: "application/json", body: body).body
            try db.execute("UPDATE bench_items SET i0 = 'fresh\(trial)', updated_at = now() WHERE item_id = '\(item)'")
            let committed = BenchSupport.now()
            while BenchSupport.now() - committed < refresh * 5 {
                let now = try client.request(method: "POST", path: "/predict", contentType: "application/json", body: body).body
                if now != before {
                    latencies.append(BenchSupport.now() - committed)
                    break
                }
                Thread.sleep(forTimeInterval: 0.001)
            }
            Thread.sleep(forTimeInterval: Double(trial % 10) * refresh / 10)  // spread commits over the refresh cycle
        }
        guard !latencies.isEmpty else { throw BenchError("no UPDATE reached the served score within \(refresh * 5) s") }
        return latencies
    }
}

/// The bound port, handed from the server task to the bench thread.
final class BenchPort: Sendable {
    private let value = Mutex<Int?>(nil)
    func set(_ p: Int) { value.withLock { $0 = p } }
    func wait(seconds: Double) throws -> Int {
        let end = BenchSupport.now() + seconds
        while BenchSupport.now() < end {
            if let p = value.withLock({ $0 }) { return p }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw BenchError("the processor did not listen within \(seconds) s")
    }
}
