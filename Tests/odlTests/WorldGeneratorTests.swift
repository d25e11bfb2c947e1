import FG
import Foundation
import Testing
@testable import Demo

/// The demo's world generator: deterministic, drifting, and learnable.
@Suite struct WorldGeneratorTests {
    static var small: WorldConfig {
        var c = WorldConfig()
        c.users = 300
        c.yesterdayPages = 600
        c.todayPages = 800
        return c
    }

    @Test func sameSeedGivesTheSameWorld() throws {
        let a = try WorldGenerator.generate(Self.small)
        let b = try WorldGenerator.generate(Self.small)
        #expect(a.items.count == b.items.count)
        for (p, q) in zip(a.yesterday + a.today, b.yesterday + b.today) {
            #expect(p.time == q.time && p.user == q.user)
            #expect(p.impressions.map(\.item) == q.impressions.map(\.item))
            #expect(p.impressions.map(\.label) == q.impressions.map(\.label))
        }
        let body1 = try a.features(of: a.today[17]).predictRequestData()
        let body2 = try b.features(of: b.today[17]).predictRequestData()
        #expect(body1 == body2)
    }

    @Test func otherSeedGivesAnotherWorld() throws {
        var c = Self.small
        c.seed = 8
        let a = try WorldGenerator.generate(Self.small)
        let b = try WorldGenerator.generate(c)
        let la = a.today.flatMap { $0.impressions.map(\.label) }
        let lb = b.today.flatMap { $0.impressions.map(\.label) }
        #expect(la != lb)
    }

    @Test func catalogDriftsNewItemsArriveAndOldOnesFade() throws {
        let w = try WorldGenerator.generate(Self.small)
        let day = w.config.daySeconds
        // Nothing shown before it is born; yesterday never shows an item born today.
        for p in w.yesterday + w.today {
            for i in p.impressions { #expect(w.items[i.item].birth <= p.time) }
        }
        #expect(w.yesterday.allSatisfy { $0.impressions.allSatisfy { !w.isNew($0.item) } })
        // Today, the share of impressions on items born today grows through the day.
        func newShare(_ pages: ArraySlice<WorldPage>) -> Double {
            let imps = pages.flatMap(\.impressions)
            return Double(imps.filter { w.isNew($0.item) }.count) / Double(max(imps.count, 1))
        }
        let quarter = w.today.count / 4
        let early = newShare(w.today.prefix(quarter)), late = newShare(w.today.suffix(quarter))
        #expect(early < late)
        #expect(late > 0.8)
        // Distinct new items keep appearing in every quarter of today.
        for q in 0..<4 {
            let slice = w.today[(q * quarter)..<((q + 1) * quarter)]
            let bornInSlice = Set(slice.flatMap { $0.impressions.map(\.item) }).filter {
                w.items[$0].birth >= day + Double(q) * day / 4
            }
            #expect(!bornInSlice.isEmpty, "quarter \(q) shows no item born in it")
        }
        // Old items fade: late today, items older than a day get almost no traffic.
        let lateImps = w.today.suffix(quarter).flatMap { p in p.impressions.map { (p.time, $0) } }
        let stale = lateImps.filter { $0.0 - w.items[$0.1.item].birth > day }.count
        #expect(Double(stale) / Double(lateImps.count) < 0.05)
    }

    @Test func hiddenModelIsLearnableAndItemsMatter() throws {
        let w = try WorldGenerator.generate(Self.small)
        let imps = w.today.flatMap(\.impressions)
        let auc = try #require(rocAUC(scores: imps.map(\.trueProbability), labels: imps.map(\.label)))
        #expect(auc > 0.75)
        let ctr = Double(imps.reduce(0) { $0 + $1.label }) / Double(imps.count)
        #expect(ctr > 0.05 && ctr < 0.4)
        // Item quality carries signal a model can only learn from the item's own clicks.
        let qualities = imps.map { w.items[$0.item].quality }
        let qualityAUC = try #require(rocAUC(scores: qualities, labels: imps.map(\.label)))
        #expect(qualityAUC > 0.6)
    }

    @Test func predictRequestFollowsTheServingAPI() throws {
        let w = try WorldGenerator.generate(Self.small)
        let page = w.today[3]
        let json = try #require(try JSONSerialization.jsonObject(with: w.features(of: page).predictRequestData()) as? [String: Any])
        let ids = try #require(json["item_ids"] as? [String])
        #expect(ids == page.impressions.map { w.items[$0.item].id })
        let user = try #require(json["user_features"] as? [String: Any])
        #expect((user["user_id"] as? [String: Any])?["string_feature"] as? String == w.users[page.user].id)
        let context = try #require(json["context_features"] as? [String: Any])
        let category = try #require((context["category"] as? [String: Any])?["features"] as? [Any])
        #expect(category.count == ids.count)
        let hour = try #require((context["hour"] as? [String: Any])?["features"] as? [[String: Any]])
        #expect(hour.count == 1 && hour[0]["int_feature"] as? Int == page.hour)
    }

    /// Samples are rendered from `fgRequest()` directly; it must be exactly what FG parses from
    /// the predict request the processors receive, so trainer and processors see the same features.
    @Test func directFGRequestEqualsTheParsedPredictRequest() throws {
        let w = try WorldGenerator.generate(Self.small)
        let renderer = try FGSampleRenderer(fgJSONPath: E2EPaths.packageRoot + "/models/demo/fg.json", separator: ",")
        for page in w.yesterday.prefix(50) + w.today.prefix(50) {
            let f = w.features(of: page)
            let parsed = try FGRequest.parseJSON(Array(try f.predictRequestData()))
            #expect(f.fgRequest() == parsed, "page \(page.index)")
            let labels = page.impressions.map(\.label)
            #expect(try renderer.sampleLines(f, labels: labels) == renderer.sampleLines(parsed, labels: labels))
        }
    }

    @Test func shuffledYesterdayIsASeededPermutation() {
        let lines = (0..<500).map { "line \($0)" }
        let a = WorldFiles.shuffled(lines, seed: 7), b = WorldFiles.shuffled(lines, seed: 7)
        #expect(a == b && a != lines && a.sorted() == lines.sorted())
        #expect(WorldFiles.shuffled(lines, seed: 8) != a)
    }

    @Test func badConfigIsRejectedWithTheFieldName() {
        var c = Self.small
        c.itemsPerPage = 0
        #expect(throws: WorldError.self) { try WorldGenerator.generate(c) }
        do { _ = try WorldGenerator.generate(c) } catch { #expect("\(error)".contains("itemsPerPage")) }
    }

    @Test func aucMatchesHandComputedValues() {
        #expect(rocAUC(scores: [0.1, 0.2, 0.8, 0.9], labels: [0, 0, 1, 1]) == 1)
        #expect(rocAUC(scores: [0.9, 0.8, 0.2, 0.1], labels: [0, 0, 1, 1]) == 0)
        #expect(rocAUC(scores: [0.5, 0.5, 0.5, 0.5], labels: [0, 1, 0, 1]) == 0.5)
        // One positive above one of two negatives, tied with the other: (1 + 0.5) / 2.
        #expect(rocAUC(scores: [0.3, 0.6, 0.6], labels: [0, 0, 1]) == 0.75)
        #expect(rocAUC(scores: [0.3, 0.6], labels: [1, 1]) == nil)
        #expect(quantile([3, 1, 2, 4], 0.5) == 2)
    }
}
