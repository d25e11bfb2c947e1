import FG
import Foundation
import Postgres
@testable import Processor
import SwiftProtobuf
import XCTest

/// The item source against a real PostgreSQL server (Debian `postgresql`, `make deps`), one
/// server for the whole class: started in `setUp()` of the class, stopped in its `tearDown()`.
final class PostgresItemSourceTests: XCTestCase {
    /// Written once in `class setUp` before any test runs and cleared in `class tearDown`
    /// after all ran; XCTest runs a class's tests one at a time, so no two threads touch it at once.
    nonisolated(unsafe) static var server: LocalPostgresServer?
    nonisolated(unsafe) static var startFailure: String?

    override class func setUp() {
        super.setUp()
        do {
            server = try LocalPostgresServer()
        } catch {
            startFailure = "cannot start PostgreSQL (run `make deps`, which installs postgresql): \(error.description)"
        }
    }

    override class func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    func pg() throws -> LocalPostgresServer {
        guard let server = Self.server else { throw PostgresMissing(message: Self.startFailure ?? "no server") }
        return server
    }

    /// A password file for the processor (the password never goes on the command line).
    func passwordFile(_ server: LocalPostgresServer) throws -> String {
        let path = server.folder + "/client-pw"
        try server.password.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startProcessor(_ server: LocalPostgresServer, table: String, refresh: Double = 1,
                        extra: String = "") async throws -> ServerFixture {
        let model = try TestModel()
        let pw = try passwordFile(server)
        return try await ServerFixture(model: try model.loaded()) {
            $0.itemSource = server.url + "?table=\(table)&key=item_id&time_key=updated_at" + extra
            $0.itemPasswordFile = pw
            $0.itemRefreshSeconds = refresh
        }
    }

    static func request(_ items: [String]) -> PBRequest {
        var r = PBRequest()
        var user = PBFeature()
        user.value = .stringFeature("u42")
        r.userFeatures["user_id"] = user
        r.itemIds = items
        return r
    }

    /// Logits the Inference module computes for `items` with these features, outside the processor.
    static func expectedLogits(_ items: [String], category: [String], price: [Double]) throws -> [Double] {
        try TestModel().expected(FGRequest(userFeatures: ["user_id": .string("u42")], itemIds: items,
                                           itemFeatures: ["category": category.map { .string($0) }, "price": price.map { .float($0) }]))
            .logits.map(Double.init)
    }

    func logits(_ fixture: ServerFixture, _ items: [String]) async throws -> [Double] {
        let reply = try await fixture.post(body: try Self.request(items).serializedBytes() as [UInt8])
        XCTAssertEqual(reply.status, 200, reply.text)
        let response = try PBResponse(serializedBytes: reply.body)
        return items.map { response.results[$0]?.scores.last ?? .nan }  // outputs: probs, logits
    }

    func waitLoaded(_ fixture: ServerFixture, rows: Int, seconds: Double = 60) async throws -> ProcessorStatus {
        try await fixture.waitFor("item source loaded with \(rows) rows", seconds: seconds) {
            $0.items?.loaded == true && $0.items?.rows == rows
        }
    }

    /// Run `body`, then stop the processor (also when `body` throws).
    func running(_ fixture: ServerFixture, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    func close(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 } && a.count == b.count }

    // MARK: acceptance

    func testLoad100kItemsThenAnUpdateReachesScoresWithinTwoRefreshes() async throws {
        let server = try pg()
        let db = try server.connect()
        try db.execute("""
            CREATE TABLE items_100k (item_id text PRIMARY KEY, category text, price double precision, updated_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO items_100k SELECT 'i' || g, 'cat' || (g % 50), (g % 97) + 0.5, now() - interval '1 hour' FROM generate_series(1, 100000) g;
            """)
        let fixture = try await startProcessor(server, table: "items_100k", refresh: 1)
        try await running(fixture) {
            let status = try await waitLoaded(fixture, rows: 100_000)
            let readyStatus = try await fixture.get("/readyz").status
            XCTAssertEqual(readyStatus, 200)
            XCTAssertEqual(status.items?.kind, "postgres")
            XCTAssertEqual(status.items?.skippedRows, 0)
            XCTAssertNotNil(status.items?.lastRefresh)
            XCTAssertGreaterThan(status.items?.lag ?? 0, 3000)  // newest time key is an hour old
            let items = ["i42", "i99999", "missing"]
            var got = try await logits(fixture, items)
            var want = try Self.expectedLogits(["i42", "i99999"], category: ["cat42", "cat49"], price: [42 + 0.5, Double(99999 % 97) + 0.5])
            XCTAssertTrue(close(Array(got.prefix(2)), want), "\(got) vs \(want)")
            // An UPDATE of one item's price: the processor serves the new score within 2 refresh intervals.
            try db.execute("UPDATE items_100k SET price = 7.25, updated_at = now() WHERE item_id = 'i42'")
            let committed = Date()
            want = try Self.expectedLogits(["i42"], category: ["cat42"], price: [7.25])
            while true {
                got = try await logits(fixture, ["i42"])
                if close(got, want) { break }
                XCTAssertLessThan(Date().timeIntervalSince(committed), 2.0, "no new score within 2 refresh intervals: \(got) vs \(want)")
                if Date().timeIntervalSince(committed) > 2.0 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            // The refresh publishes the rows, then its status (lag): poll that briefly.
            var after = try await fixture.status()
            let statusDeadline = Date().addingTimeInterval(2)
            while (after.items?.lag ?? 99) >= 10 && Date() < statusDeadline {
                try await Task.sleep(for: .milliseconds(20))
                after = try await fixture.status()
            }
            XCTAssertLessThan(after.items?.lag ?? 99, 10)
            let metrics = try await fixture.get("/metrics").text
            XCTAssertTrue(metrics.contains("odl_item_rows 100000"), metrics)
            XCTAssertTrue(metrics.contains("odl_item_refresh_seconds_count"), metrics)
        }
    }

    func testTypeMismatchedRowIsSkippedAndCounted() async throws {
        let server = try pg()
        let db = try server.connect()
        try db.execute("""
            CREATE TABLE items_text_price (item_id text PRIMARY KEY, category text, price text, updated_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO items_text_price VALUES ('i1', 'books', '3.5', now()), ('i2', 'toys', 'cheap', now()), ('i3', NULL, NULL, now());
            """)
        let fixture = try await startProcessor(server, table: "items_text_price")
        try await running(fixture) {
            let status = try await waitLoaded(fixture, rows: 2)
            XCTAssertEqual(status.items?.skippedRows, 1)
            let message = status.items?.lastSkipped ?? ""
            for part in ["items_text_price", "key i2", "column price", "\"cheap\" is not a number"] {
                XCTAssertTrue(message.contains(part), message)
            }
            let skippedMetric = try await fixture.get("/metrics").text.contains("odl_item_rows_skipped_total 1")
            XCTAssertTrue(skippedMetric)
            // i1's text price feeds the raw feature as the number 3.5; i3's NULLs are missing values.
            let got = try await logits(fixture, ["i1"])
            XCTAssertTrue(close(got, try Self.expectedLogits(["i1"], category: ["books"], price: [3.5])), "\(got)")
        }
    }

    func testDeletedColumnRemovesItems() async throws {
        let server = try pg()
        let db = try server.connect()
        try db.execute("""
            CREATE TABLE items_deleted (item_id bigint PRIMARY KEY, category varchar(20), price real, tags text[], gone boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO items_deleted VALUES (1, 'books', 2.5, '{a,b}', false, now()), (2, 'toys', 9, NULL, false, now());
            """)
        let fixture = try await startProcessor(server, table: "items_deleted", refresh: 0.2, extra: "&deleted=gone")
        try await running(fixture) {
            _ = try await waitLoaded(fixture, rows: 2)
            XCTAssertTrue(fixture.server.items?.store.contains("2") == true)
            try db.execute("UPDATE items_deleted SET gone = true, updated_at = now() WHERE item_id = 2")
            let status = try await fixture.waitFor("item 2 removed", seconds: 10) { $0.items?.rows == 1 }
            XCTAssertEqual(status.items?.removed, 1)
            XCTAssertFalse(fixture.server.items?.store.contains("2") ?? true)
            XCTAssertEqual(fixture.server.items?.store.values(of: ["1"])[0][0], .string("books"))
        }
    }

    func testUnreachableDatabaseKeepsReadyzFalseAndNamesTheError() async throws {
        let server = try pg()
        let model = try TestModel()
        let pw = try passwordFile(server)
        let fixture = try await ServerFixture(model: try model.loaded()) {
            $0.itemSource = "postgres://odl@127.0.0.1:1/postgres?table=nothing&time_key=updated_at"
            $0.itemPasswordFile = pw
            $0.itemRefreshSeconds = 0.1
        }
        try await running(fixture) {
            let status = try await fixture.waitFor("an item source error", seconds: 20) { ($0.items?.errors ?? 0) > 0 }
            XCTAssertFalse(status.ready)
            XCTAssertTrue(status.readiness.contains("loading item features"), status.readiness)
            XCTAssertTrue(status.items?.lastError?.contains("127.0.0.1:1/postgres") == true, "\(status.items?.lastError ?? "")")
            let notReadyStatus = try await fixture.get("/readyz").status
            XCTAssertEqual(notReadyStatus, 503)
            // Predictions still answer (items take their defaults).
            let predictStatus = try await fixture.post(body: try Self.request(["i1"]).serializedBytes() as [UInt8]).status
            XCTAssertEqual(predictStatus, 200)
        }
    }

    /// Runs last (z): stops and restarts the shared server.
    func testZServerStoppedMidRunServingContinuesThenRefreshRecovers() async throws {
        let server = try pg()
        let db = try server.connect()
        try db.execute("""
            CREATE TABLE items_outage (item_id text PRIMARY KEY, category text, price double precision, updated_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO items_outage VALUES ('i1', 'books', 2, now()), ('i2', 'toys', 30, now());
            """)
        let fixture = try await startProcessor(server, table: "items_outage", refresh: 0.2)
        try await running(fixture) {
            _ = try await waitLoaded(fixture, rows: 2)
            let before = try Self.expectedLogits(["i1", "i2"], category: ["books", "toys"], price: [2, 30])
            let cachedScores = try await logits(fixture, ["i1", "i2"])
            XCTAssertTrue(close(cachedScores, before))
            try server.pause()
            let down = try await fixture.waitFor("refresh errors while the database is down", seconds: 20) { ($0.items?.errors ?? 0) >= 2 }
            XCTAssertTrue(down.ready, down.readiness)  // serving continues on the cached items
            XCTAssertEqual(down.items?.rows, 2)
            let scoresWhileDown = try await logits(fixture, ["i1", "i2"])
            XCTAssertTrue(close(scoresWhileDown, before))
            let errorMetric = try await fixture.get("/metrics").text.contains("odl_item_refresh_errors_total")
            XCTAssertTrue(errorMetric, "no error metric")
            try server.start()
            let db2 = try server.connect()
            try db2.execute("UPDATE items_outage SET price = 60, updated_at = now() WHERE item_id = 'i1'")
            let want = try Self.expectedLogits(["i1"], category: ["books"], price: [60])
            let deadline = Date().addingTimeInterval(40)  // backoff after the outage is at most 30 s
            var got: [Double] = []
            while Date() < deadline {
                got = try await logits(fixture, ["i1"])
                if close(got, want) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            XCTAssertTrue(close(got, want), "refresh did not recover after restart: \(got) vs \(want)")
        }
    }
}

/// A missing PostgreSQL is a test failure (not a skip) that names the make target.
struct PostgresMissing: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
