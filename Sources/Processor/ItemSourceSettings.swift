import Foundation

/// Where item features come from and how they stay current, parsed from
/// `postgres://USER[:PASS]@HOST:PORT/DB?table=T&key=item_id&time_key=updated_at` (also
/// `deleted=COLUMN`, `overlap=SECONDS`, `chunk=ROWS`, `password_file=PATH`, `sslmode=MODE`).
public struct ItemSourceSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    /// Never printed; from the URL, the password file or `PGPASSWORD`.
    public var password: String?
    /// Table or view, optionally `schema.table`.
    public var table: String
    public var key: String
    /// Column whose increase marks a changed row (timestamp, timestamptz, integer seconds or double seconds).
    public var timeKey: String?
    /// Boolean column: true removes the item.
    public var deleted: String?
    /// Re-read rows whose time key is up to this many seconds before the server's now (late commits).
    public var overlapSeconds: Double = 5
    /// Rows per FETCH from the server-side cursor.
    public var chunkRows: Int = 10_000
    public var sslMode: String?
    /// Seconds between incremental refreshes.
    public var refreshSeconds: Double = 1
    /// Seconds between full reconciles (removes deleted items); nil = never.
    public var reconcileSeconds: Double?

    /// The URL without its password (for logs and /status).
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)?table=\(table)&key=\(key)" + (timeKey.map { "&time_key=\($0)" } ?? "") }

    /// Parse the URL; `passwordFile` (option) and `environment["PGPASSWORD"]` supply a password the URL lacks.
    public static func parse(_ text: String, passwordFile: String? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws(ServeError) -> ItemSourceSettings {
        guard let url = URLComponents(string: text), let scheme = url.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw ServeError("--item-source: \"\(redact(text))\" is not a postgres://USER@HOST:PORT/DB?table=T&key=K URL")
        }
        guard let host = url.host, !host.isEmpty else { throw ServeError("--item-source: the URL has no host") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw ServeError("--item-source: the URL has no database (postgres://USER@HOST:PORT/DB)") }
        guard let user = url.user, !user.isEmpty else { throw ServeError("--item-source: the URL has no user (postgres://USER@HOST...)") }
        var query: [String: String] = [:]
        for item in url.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let known: Set<String> = ["table", "key", "time_key", "deleted", "overlap", "chunk", "password_file", "sslmode"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw ServeError("--item-source: unknown URL parameter \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let table = query["table"], !table.isEmpty else { throw ServeError("--item-source: the URL has no table=NAME") }
        var settings = ItemSourceSettings(host: host, port: url.port ?? 5432, database: database, user: user,
                                          password: url.password, table: table, key: query["key"].flatMap { $0.isEmpty ? nil : $0 } ?? "item_id")
        settings.timeKey = query["time_key"].flatMap { $0.isEmpty ? nil : $0 }
        settings.deleted = query["deleted"].flatMap { $0.isEmpty ? nil : $0 }
        settings.sslMode = query["sslmode"]
        if let text = query["overlap"] {
            guard let v = Double(text), v >= 0, v.isFinite else { throw ServeError("--item-source: overlap=\(text) is not a number of seconds") }
            settings.overlapSeconds = v
        }
        if let text = query["chunk"] {
            guard let v = Int(text), v > 0 else { throw ServeError("--item-source: chunk=\(text) is not a positive row count") }
            settings.chunkRows = v
        }
        if settings.password == nil, let file = passwordFile ?? query["password_file"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ServeError("--item-source: cannot read the password file \(file)")
            }
            settings.password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
        if settings.password == nil, let env = environment["PGPASSWORD"], !env.isEmpty { settings.password = env }
        for (name, column) in [("table", table), ("key", settings.key), ("time_key", settings.timeKey ?? ""), ("deleted", settings.deleted ?? "")]
        where column.contains("\"") || column.contains("\0") {
            throw ServeError("--item-source: \(name)=\(column) contains a quote or NUL")
        }
        return settings
    }

    /// `1`, `1.5s`, `500ms`, `10m`, `1h` as seconds; nil when malformed or not positive.
    public static func parseDuration(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count)), v > 0, v.isFinite else { return nil }
            return v * scale
        }
        guard let v = Double(t), v > 0, v.isFinite else { return nil }
        return v
    }

    /// libpq connection keywords.
    var connectionParameters: [(String, String)] {
        var p: [(String, String)] = [("host", host), ("port", String(port)), ("dbname", database), ("user", user),
                                     ("connect_timeout", "5"), ("application_name", "odl-serve")]
        if let password { p.append(("password", password)) }
        if let sslMode { p.append(("sslmode", sslMode)) }
        return p
    }

    /// `"schema"."table"` with each part quoted.
    var quotedTable: String { table.split(separator: ".").map { Self.quote(String($0)) }.joined(separator: ".") }

    static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func redact(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? "postgres://..."
    }
}
