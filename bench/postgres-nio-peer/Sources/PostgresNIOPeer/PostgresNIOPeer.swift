import Foundation
import Logging
import PostgresNIO

/// Reads every row of the bench item table through PostgresNIO, decoding each column into its
/// Swift value (as the item source converts each into an item feature), and prints one JSON line
/// `{"rows": N, "seconds": S, "rows_per_s": R}`. Connection from PGHOST, PGPORT, PGUSER,
/// PGPASSWORD, PGDATABASE; the table from the first argument (default bench_items).
@main
struct PostgresNIOPeer {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func main() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["PGHOST"], let portText = env["PGPORT"], let port = Int(portText), let user = env["PGUSER"] else {
            throw Failure(description: "PGHOST, PGPORT and PGUSER must be set")
        }
        let table = CommandLine.arguments.dropFirst().first ?? "bench_items"
        guard table.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw Failure(description: "table name \(table) is not a plain identifier")
        }
        let logger: Logger = {
            var logger = Logger(label: "postgres-nio-peer")
            logger.logLevel = .error
            return logger
        }()
        let config = PostgresClient.Configuration(
            host: host, port: port, username: user, password: env["PGPASSWORD"],
            database: env["PGDATABASE"] ?? "postgres", tls: .disable)
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        let (rows, seconds, checksum) = try await withThrowingTaskGroup(of: (Int, Double, Int)?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            group.addTask {
                try await readAll(client: client, table: table, logger: logger)
            }
            var result: (Int, Double, Int)?
            for try await value in group {
                if let value {
                    result = value
                    group.cancelAll()
                }
            }
            guard let result else { throw Failure(description: "the read ended without a result") }
            return result
        }
        print("{\"rows\": \(rows), \"seconds\": \(seconds), \"rows_per_s\": \(Double(rows) / seconds), \"checksum\": \(checksum)}")
    }

    /// The full read: query sent -> last row decoded. `checksum` keeps the decoded values alive.
    static func readAll(client: PostgresClient, table: String, logger: Logger) async throws -> (Int, Double, Int) {
        try await client.withConnection { connection in
            let start = Date()
            let query = PostgresQuery(unsafeSQL: "SELECT item_id, i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, updated_at FROM \(table)")
            let rows = try await connection.query(query, logger: logger)
            var count = 0
            var checksum = 0
            for try await row in rows {
                let (id, i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, updated) = try row.decode(
                    (String, String?, String?, String?, String?, Int64?, Int64?, Int32?, Int32?, Double?, [String]?, Date).self)
                checksum &+= id.utf8.count &+ (i0?.utf8.count ?? 0) &+ (i1?.utf8.count ?? 0) &+ (i2?.utf8.count ?? 0)
                    &+ (i3?.utf8.count ?? 0) &+ Int(i4 ?? 0) &+ Int(i5 ?? 0) &+ Int(i6 ?? 0) &+ Int(i7 ?? 0)
                    &+ Int(i8 ?? 0) &+ (i9?.count ?? 0) &+ Int(updated.timeIntervalSince1970)
                count += 1
            }
            return (count, Date().timeIntervalSince(start), checksum)
        }
    }
}
