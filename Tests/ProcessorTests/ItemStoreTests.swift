import FG
import Foundation
@testable import Processor
import Synchronization
import Testing

/// A stop flag a writer thread can capture.
final class StopFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

@Suite struct ItemStoreTests {
    @Test func recordsRoundTripEveryValueKind() {
        let values: [FeatureValue?] = [.int(-3), .int(1 << 40), .float(0.5), .float(19.99), .string("books"), nil,
                                       .bool(true), .bool(false), .strings(["a", "", "ü"]), .ints([0, -1, 7]),
                                       .floats([1.25, -2.5e300])]
        let store = ItemStore(fields: values.indices.map { "f\($0)" })
        store.upsert([("i1", values)])
        let got = store.values(of: ["i1", "absent"])
        for (f, expected) in values.enumerated() {
            #expect(got[f][0] == expected, "field \(f)")
            #expect(got[f][1] == nil)
        }
    }

    @Test func replaceRemoveAndCompactKeepTheNewestRecord() {
        let store = ItemStore(fields: ["category", "price"])
        for round in 0..<200 {
            store.upsert((0..<1000).map { ("i\($0)", [.string("c\(round)-\($0)"), .float(Double(round))]) })
        }
        #expect(store.count == 1000)
        store.remove(["i3", "i4", "nope"])
        #expect(store.count == 998)
        #expect(!store.contains("i3"))
        let got = store.values(of: ["i0", "i999", "i3"])
        #expect(got[0] == [.string("c199-0"), .string("c199-999"), nil])
        #expect(got[1] == [.float(199), .float(199), nil])
        // 200 versions of every row were written; compaction keeps the arena near one version.
        #expect(store.footprintBytes() < 200_000, "\(store.footprintBytes()) bytes")
        store.upsert([("i3", [.string("back"), nil])])
        #expect(store.values(of: ["i3"])[0] == [.string("back")])
        #expect(store.count == 999)
    }

    @Test func unchangedRowsAddNoGarbage() {
        let store = ItemStore(fields: ["category"])
        store.upsert([("i1", [.string("books")])])
        let before = store.footprintBytes()
        for _ in 0..<10_000 { store.upsert([("i1", [.string("books")])]) }
        #expect(store.footprintBytes() == before)
    }

    /// Readers scoring through the real scorer while a writer flips every item between two
    /// versions: each score must be the score of version A or of version B, never of a mix.
    @Test func predictionsNeverMixTwoVersionsOfAnItem() async throws {
        let model = try TestModel()
        let loaded = try model.loaded()
        let items = (0..<40).map { "i\($0)" }
        let versionA: [FeatureValue?] = [.string("books"), .float(3)]
        let versionB: [FeatureValue?] = [.string("garden"), .float(40)]
        let store = ItemStore(fields: ["category", "price"])
        #expect(loaded.mode.itemFields(key: "item_id") == ["category", "price"])
        store.upsert(items.map { ($0, versionA) })
        let scorer = try ModelScorer(store: loaded.store, mode: loaded.mode, items: store, outputs: [.logits],
                                     limits: ServeLimits(), pool: nil)
        func expected(_ v: [FeatureValue?]) throws -> [Float] {
            try model.expected(FGRequest(userFeatures: ["user_id": .string("u1")], itemIds: items,
                                         itemFeatures: ["category": items.map { _ in v[0]! }, "price": items.map { _ in v[1]! }])).logits
        }
        let a = try expected(versionA), b = try expected(versionB)
        let mixed1 = try expected([versionA[0], versionB[1]]), mixed2 = try expected([versionB[0], versionA[1]])
        for i in items.indices {  // the check can fail: a mix scores differently from both versions
            #expect(Set([a[i], b[i], mixed1[i], mixed2[i]]).count == 4)
        }
        var request = PBRequest()
        var user = PBFeature()
        user.value = .stringFeature("u1")
        request.userFeatures["user_id"] = user
        request.itemIds = items
        let stop = StopFlag()
        let writer = Thread {
            var flip = false
            while !stop.isSet {
                flip.toggle()
                for item in items { store.upsert([(item, flip ? versionB : versionA)]) }
            }
        }
        writer.start()
        defer { stop.set() }
        var seen: Set<String> = []
        for _ in 0..<400 {
            let response = try scorer.score(try scorer.prepare(request))
            for (i, item) in items.enumerated() {
                let s = Float(response.results[item]?.scores.first ?? .nan)
                if s == a[i] { seen.insert("A") } else if s == b[i] { seen.insert("B") } else {
                    Issue.record("item \(item): logit \(s) is neither version A (\(a[i])) nor B (\(b[i]))")
                    return
                }
            }
        }
        stop.set()
        #expect(seen == ["A", "B"], "the writer never overlapped the readers: \(seen)")
    }

    @Test func durationsParse() {
        #expect(ItemSourceSettings.parseDuration("1s") == 1)
        #expect(ItemSourceSettings.parseDuration("500ms") == 0.5)
        #expect(ItemSourceSettings.parseDuration("10m") == 600)
        #expect(ItemSourceSettings.parseDuration("2") == 2)
        #expect(ItemSourceSettings.parseDuration("-1s") == nil)
        #expect(ItemSourceSettings.parseDuration("soon") == nil)
    }

    @Test func sourceURLParsesAndErrorsNameTheProblem() throws {
        let s = try ItemSourceSettings.parse("postgres://shop:pw@127.0.0.1:6543/items?table=public.item_features&key=id&time_key=updated_at&deleted=gone&overlap=2",
                                             environment: [:])
        #expect(s.host == "127.0.0.1" && s.port == 6543 && s.database == "items" && s.user == "shop" && s.password == "pw")
        #expect(s.table == "public.item_features" && s.quotedTable == "\"public\".\"item_features\"")
        #expect(s.key == "id" && s.timeKey == "updated_at" && s.deleted == "gone" && s.overlapSeconds == 2)
        #expect(!s.redacted.contains("pw"))
        let env = try ItemSourceSettings.parse("postgres://shop@db:5432/items?table=t", environment: ["PGPASSWORD": "secret"])
        #expect(env.password == "secret" && env.key == "item_id" && env.timeKey == nil)
        for (url, needle) in [("http://x/y?table=t", "not a postgres://"), ("postgres://u@h:1/?table=t", "no database"),
                              ("postgres://u@h:1/db", "no table"), ("postgres://u@h:1/db?table=t&colour=red", "unknown URL parameter \"colour\""),
                              ("postgres://u@h:1/db?table=t&overlap=x", "overlap=x")] {
            #expect(throws: ServeError.self) { try ItemSourceSettings.parse(url, environment: [:]) }
            do {
                _ = try ItemSourceSettings.parse(url, environment: [:])
            } catch {
                #expect(error.description.contains(needle), "\(url): \(error.description)")
            }
        }
    }
}
