import Foundation
@testable import Processor
import Testing

@Suite struct ProcessorUnitTests {
    @Test func gzipRoundTripAndLimits() throws {
        let text = Array(String(repeating: "odl processor ", count: 500).utf8)
        let zipped = GzipCodec.compress(text)
        #expect(zipped.count < text.count / 10)
        #expect(zipped.prefix(2) == [0x1f, 0x8b])
        #expect(try GzipCodec.decompress(zipped, limit: text.count) == text)
        #expect(throws: GzipCodec.Failure.tooLarge(limit: 100)) { try GzipCodec.decompress(zipped, limit: 100) }
        #expect(throws: GzipCodec.Failure.self) { try GzipCodec.decompress(Array(zipped.dropLast(9)), limit: 1 << 20) }
        #expect(throws: GzipCodec.Failure.self) { try GzipCodec.decompress(Array("not gzip".utf8), limit: 1 << 20) }
        #expect(throws: GzipCodec.Failure.self) { try GzipCodec.decompress(zipped + [1, 2], limit: 1 << 20) }
        #expect(try GzipCodec.decompress(GzipCodec.compress([]), limit: 10) == [])
    }

    @Test func contentTypes() {
        #expect(PredictBodyFormat.from(contentType: nil) == .protobuf(contentType: "application/octet-stream"))
        #expect(PredictBodyFormat.from(contentType: "application/x-protobuf") == .protobuf(contentType: "application/x-protobuf"))
        #expect(PredictBodyFormat.from(contentType: "Application/JSON; charset=utf-8") == .json)
        #expect(PredictBodyFormat.from(contentType: "text/plain") == nil)
        #expect(PredictBodyFormat.from(contentType: "application/x-www-form-urlencoded") == nil)
    }

    @Test func startOffsetOption() throws {
        #expect(try ServeOptions.parseStartOffset("42").all == 42)
        #expect(try ServeOptions.parseStartOffset("0:5, 1:7").perPartition == [0: 5, 1: 7])
        #expect(throws: ServeError.self) { try ServeOptions.parseStartOffset("-1") }
        #expect(throws: ServeError.self) { try ServeOptions.parseStartOffset("0:x") }
        #expect(throws: ServeError.self) { try ServeOptions.parseStartOffset("") }
    }

    @Test func outputsOption() throws {
        #expect(try ModelOutput.parseList("logits, probs") == [.logits, .probs])
        #expect(throws: PredictFailure.self) { try ModelOutput.parseList("probs,score") }
    }

    @Test func csvParsing() throws {
        let records = try CSVParser.parse("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\"multi\nline\",,z")
        #expect(records.map(\.cells) == [["a", "b", "c"], ["1", "x, \"y\"", "3"], ["multi\nline", "", "z"]])
        #expect(records.map(\.line) == [1, 2, 3])
        #expect(throws: CSVParser.Failure.self) { try CSVParser.parse("a\n\"open") }
    }

    @Test func itemTableErrorsNameTheLine() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/odl-table-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "item_id,price\ni1,1\ni2,2,3\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        #expect(throws: ItemFeatureTable.LoadError(path: dir + "/bad.csv", line: 3, reason: "3 cells, the header has 2")) {
            try ItemFeatureTable.load(path: dir + "/bad.csv")
        }
        try "sku,price\ni1,1\n".write(toFile: dir + "/nokey.csv", atomically: true, encoding: .utf8)
        #expect(throws: ItemFeatureTable.LoadError.self) { try ItemFeatureTable.load(path: dir + "/nokey.csv") }
        let keyed = try ItemFeatureTable.load(path: dir + "/nokey.csv", keyField: "sku")
        #expect(keyed.value(field: 0, item: "i1") == .string("1"))
        try "{\"item_id\": 7, \"tags\": [\"a\", \"b\"], \"w\": [1, 2.5], \"n\": null}\n[1]\n".write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        #expect(throws: ItemFeatureTable.LoadError(path: dir + "/t.jsonl", line: 2, reason: "not a JSON object")) {
            try ItemFeatureTable.load(path: dir + "/t.jsonl")
        }
        try "{\"item_id\": 7, \"tags\": [\"a\", \"b\"], \"w\": [1, 2.5], \"n\": null}\n".write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        let table = try ItemFeatureTable.load(path: dir + "/t.jsonl")
        let tags = try #require(table.fields.firstIndex(of: "tags"))
        let w = try #require(table.fields.firstIndex(of: "w"))
        #expect(table.value(field: tags, item: "7") == .strings(["a", "b"]))
        #expect(table.value(field: w, item: "7") == .floats([1, 2.5]))
        #expect(!table.fields.contains("n"))
    }

    @Test func streamStateDetectsBackwardsStepsAndUnpairedUpdates() async throws {
        let state = UpdateStreamState(mode: "kafka", source: "t", metrics: ProcessorMetrics(), pairingWindow: 0.05)
        state.setPartitions([PartitionProgress(partition: 0, startOffset: 0, endOffsetAtStart: 3)])
        #expect(!state.snapshot.caughtUp)
        #expect(state.snapshot.caughtUpAt == nil)
        state.recordApplied(partition: 0, offset: 0, message: UpdateKindStep(dense: true, step: 5), rows: 1, timestamp: nil)
        state.recordApplied(partition: 0, offset: 1, message: UpdateKindStep(dense: false, step: 5), rows: 2, timestamp: nil)
        #expect(state.snapshot.caughtUpAt == nil, "two of three start-up messages applied: not caught up yet")
        let beforeLast = Date().timeIntervalSince1970
        state.recordApplied(partition: 0, offset: 2, message: UpdateKindStep(dense: true, step: 3), rows: 1,
                            timestamp: Date().timeIntervalSince1970 - 2)
        var snap = state.snapshot
        #expect(snap.caughtUp)
        let at = try #require(snap.caughtUpAt)
        #expect(at >= beforeLast && at <= Date().timeIntervalSince1970)
        #expect(snap.problems.contains { $0.contains("dense step went backwards: 5 -> 3") })
        #expect(snap.freshness.count == 1 && (snap.freshness.lastSeconds ?? 0) >= 2)
        try await Task.sleep(for: .milliseconds(100))
        snap = state.snapshot
        #expect(snap.caughtUpAt == at, "set once, when the stream caught up")
        #expect(snap.problems.contains { $0.contains("dense update of step 3 has no sparse partner") }, "\(snap.problems)")
        #expect(!snap.problems.contains { $0.contains("step 5 has no") })
        #expect(snap.rowsApplied == 4 && snap.denseStep == 3 && snap.sparseStep == 5)
    }
}
