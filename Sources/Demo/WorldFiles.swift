import Foundation

/// One scored unit of "today": a page's predict request and, per item, the sample it becomes.
struct TodayRequest: Sendable {
    var page: Int
    var time: Double
    var itemIds: [String]
    /// The serving-api.md JSON body.
    var body: Data
    var labels: [Int]
    var isNew: [Bool]
    var trueProbabilities: [Double]
    /// Training sample lines (CSV, formats.md section 4), one per item, same order.
    var samples: [String]
}

/// The rendered world: what `odl gen` writes and `odl demo` streams.
struct RenderedWorld: Sendable {
    var yesterdaySamples: [String]
    var today: [TodayRequest]
}

extension World {
    /// Renders every page's samples through FG and today's predict requests.
    func render(with renderer: FGSampleRenderer) throws -> RenderedWorld {
        var yesterdaySamples: [String] = []
        yesterdaySamples.reserveCapacity(yesterday.count * config.itemsPerPage)
        for page in yesterday {
            yesterdaySamples += try renderer.sampleLines(features(of: page), labels: page.impressions.map(\.label))
        }
        var todayRequests: [TodayRequest] = []
        todayRequests.reserveCapacity(today.count)
        for page in today {
            let f = features(of: page)
            let labels = page.impressions.map(\.label)
            todayRequests.append(TodayRequest(
                page: page.index, time: page.time, itemIds: f.itemIds, body: try f.predictRequestData(),
                labels: labels, isNew: page.impressions.map { isNew($0.item) },
                trueProbabilities: page.impressions.map(\.trueProbability),
                samples: try renderer.sampleLines(f, labels: labels)))
        }
        return RenderedWorld(yesterdaySamples: yesterdaySamples, today: todayRequests)
    }

    /// Ground-truth facts of the world: AUC of the hidden model, new-item share, CTR.
    func summary() -> [String: Any] {
        func stats(_ pages: [WorldPage]) -> [String: Any] {
            let imps = pages.flatMap(\.impressions)
            let newImps = imps.filter { isNew($0.item) }
            let distinctItems = Set(imps.map(\.item))
            var out: [String: Any] = [
                "pages": pages.count, "impressions": imps.count, "distinct_items": distinctItems.count,
                "ctr": imps.isEmpty ? 0 : Double(imps.reduce(0) { $0 + $1.label }) / Double(imps.count),
                "impressions_of_items_born_today": newImps.count,
            ]
            if let auc = rocAUC(scores: imps.map(\.trueProbability), labels: imps.map(\.label)) { out["true_auc"] = auc }
            if let auc = rocAUC(scores: newImps.map(\.trueProbability), labels: newImps.map(\.label)) { out["true_auc_new_items"] = auc }
            return out
        }
        let bornToday = items.filter { $0.birth >= config.daySeconds }.count
        let bornYesterday = items.filter { $0.birth >= 0 && $0.birth < config.daySeconds }.count
        return ["seed": config.seed, "users": users.count, "items": items.count,
                "items_born_yesterday": bornYesterday, "items_born_today": bornToday,
                "yesterday": stats(yesterday), "today": stats(today)]
    }
}

/// Writes a rendered world into a directory (the `odl gen` layout).
enum WorldFiles {
    static let yesterdayFile = "yesterday.csv"
    static let todayFile = "today.csv"
    static let requestsFile = "today_requests.jsonl"
    static let summaryFile = "world.json"

    static func write(world: World, rendered: RenderedWorld, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeLines(rendered.yesterdaySamples, to: dir + "/" + yesterdayFile)
        try writeLines(rendered.today.flatMap(\.samples), to: dir + "/" + todayFile)
        var lines: [String] = []
        lines.reserveCapacity(rendered.today.count)
        var sample = 0
        for r in rendered.today {
            let request = try JSONSerialization.jsonObject(with: r.body)
            var items: [[String: Any]] = []
            for j in r.itemIds.indices {
                items.append(["item_id": r.itemIds[j], "label": r.labels[j], "new": r.isNew[j],
                              "p_true": r.trueProbabilities[j], "sample": sample])
                sample += 1
            }
            let line: [String: Any] = ["page": r.page, "time": r.time, "request": request, "items": items]
            let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            lines.append(String(decoding: data, as: UTF8.self))
        }
        try writeLines(lines, to: dir + "/" + requestsFile)
        let summary = try JSONSerialization.data(withJSONObject: world.summary(), options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: dir + "/" + summaryFile, contents: summary) else {
            throw WorldError.io(path: dir + "/" + summaryFile, reason: "cannot write")
        }
    }

    /// A deterministic Fisher-Yates shuffle of `lines` (the same seed, the same order).
    static func shuffled(_ lines: [String], seed: UInt64) -> [String] {
        var out = lines
        var rng = DemoRandom(seed: seed, stream: 9)
        for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, rng.index(i + 1)) }
        return out
    }

    static func writeLines(_ lines: [String], to path: String) throws {
        var text = lines.joined(separator: "\n")
        if !lines.isEmpty { text += "\n" }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw WorldError.io(path: path, reason: "cannot write")
        }
    }
}
