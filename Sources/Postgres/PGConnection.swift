#if canImport(Glibc)
import Glibc
#endif
import CLibPQ

/// A query parameter in binary format with its type OID (e.g. an int8 or a timestamptz).
public struct PGParameter: Sendable, Equatable {
    public var type: UInt32
    public var bytes: [UInt8]

    public init(type: UInt32, bytes: [UInt8]) {
        self.type = type
        self.bytes = bytes
    }

    /// An 8-byte big-endian integer parameter of `type` (int8, timestamp, timestamptz).
    public static func int64(_ value: Int64, type: UInt32 = PGType.int8) -> PGParameter {
        withUnsafeBytes(of: value.bigEndian) { PGParameter(type: type, bytes: Array($0)) }
    }

    public static func float64(_ value: Double) -> PGParameter {
        withUnsafeBytes(of: value.bitPattern.bigEndian) { PGParameter(type: PGType.float8, bytes: Array($0)) }
    }
}

/// One blocking libpq connection. Not thread-safe: one thread uses it at a time.
public final class PGConnection {
    private let conn: OpaquePointer
    /// `host:port/db` for error messages (never the password).
    public let label: String

    /// Connect with libpq keywords (`host`, `port`, `dbname`, `user`, `password`, `connect_timeout`, ...).
    /// libpq also reads `PGPASSWORD` and the password file (`PGPASSFILE`, ~/.pgpass) when no password is given.
    public init(parameters: [(String, String)]) throws(PGError) {
        let value = { (key: String) in parameters.first { $0.0 == key }?.1 ?? "" }
        label = "\(value("host")):\(value("port"))/\(value("dbname"))"
        let keys = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        let made: OpaquePointer? = keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                k.withMemoryRebound(to: UnsafePointer<CChar>?.self) { kp in
                    v.withMemoryRebound(to: UnsafePointer<CChar>?.self) { vp in
                        PQconnectdbParams(kp.baseAddress, vp.baseAddress, 0)
                    }
                }
            }
        }
        guard let made else { throw PGError(context: "connect to \(label)", message: "libpq could not allocate a connection") }
        guard PQstatus(made) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(made))
            PQfinish(made)
            throw PGError(context: "connect to \(label)", message: message)
        }
        conn = made
    }

    deinit { PQfinish(conn) }

    /// False once the server closed the connection or it broke.
    public var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Run a statement that returns no rows (BEGIN, SET, UPDATE ...).
    public func execute(_ sql: String) throws(PGError) {
        let result = PQexec(conn, sql)
        try check(result, sql: sql, expectRows: false)
        PQclear(result)
    }

    /// Run a query with binary parameters; rows come back in binary format.
    public func query(_ sql: String, parameters: [PGParameter] = []) throws(PGError) -> PGResult {
        let types = parameters.map { Oid($0.type) }
        let lengths = parameters.map { Int32($0.bytes.count) }
        let formats = parameters.map { _ in Int32(1) }
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { p in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, p.bytes.count))
            p.bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: raw.count) }
            }
            return buffer
        }
        defer { copies.forEach { $0?.deallocate() } }
        let result: OpaquePointer? = copies.withUnsafeBufferPointer { values in
            values.withMemoryRebound(to: UnsafePointer<CChar>?.self) { vp in
                PQexecParams(conn, sql, Int32(parameters.count), types, vp.baseAddress, lengths, formats, 1)
            }
        }
        try check(result, sql: sql, expectRows: true)
        guard let result else { throw PGError(context: "query \(Self.head(sql))", message: "no result") }
        return PGResult(result)
    }

    /// Stream a query's rows through a server-side cursor, `chunkRows` at a time, inside one
    /// read-only transaction (a consistent snapshot; never the whole table in memory).
    public func forEachChunk(_ sql: String, parameters: [PGParameter] = [], chunkRows: Int = 10_000,
                             _ body: (PGResult) -> Void) throws(PGError) {
        try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            _ = try query("DECLARE odl_items NO SCROLL CURSOR FOR " + sql, parameters: parameters)
            while true {
                let chunk = try query("FETCH FORWARD \(max(1, chunkRows)) FROM odl_items")
                if chunk.rowCount == 0 { break }
                body(chunk)
            }
            try execute("CLOSE odl_items")
            try execute("COMMIT")
        } catch {
            if isHealthy { _ = PQexec(conn, "ROLLBACK").map { PQclear($0) } }
            throw error
        }
    }

    /// `COPY ... TO STDOUT`: hands each data row's bytes to `body`; returns the byte count.
    public func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(PGError) -> Int {
        let start = PQexec(conn, sql)
        guard let start, PQresultStatus(start) == PGRES_COPY_OUT else {
            try check(start, sql: sql, expectRows: false)
            PQclear(start)
            throw PGError(context: "\(Self.head(sql))", message: "the statement is not a COPY TO STDOUT")
        }
        PQclear(start)
        var total = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(conn, &buffer, 0)
            if n > 0, let buffer {
                body(UnsafeRawBufferPointer(start: buffer, count: Int(n)))
                total += Int(n)
                PQfreemem(buffer)
                continue
            }
            break
        }
        let end = PQgetResult(conn)
        try check(end, sql: sql, expectRows: false)
        PQclear(end)
        while let extra = PQgetResult(conn) { PQclear(extra) }
        return total
    }

    private func check(_ result: OpaquePointer?, sql: String, expectRows: Bool) throws(PGError) {
        guard let result else {
            throw PGError(context: "\(Self.head(sql)) on \(label)", message: Self.trimmed(PQerrorMessage(conn)))
        }
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_OUT { return }
        let message = Self.trimmed(PQresultErrorMessage(result))
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        PQclear(result)
        throw PGError(context: "\(Self.head(sql)) on \(label)", message: message.isEmpty ? Self.trimmed(PQerrorMessage(conn)) : message,
                      sqlState: state)
    }

    static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        var s = String(cString: text)
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }

    /// The first words of a statement, for error context.
    static func head(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: { $0 == "\n" || $0 == " " }).joined(separator: " ")
        return flat.count > 60 ? String(flat.prefix(60)) + "..." : flat
    }
}
