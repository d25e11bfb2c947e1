import Foundation

/// `odl gen`: generates the world, renders its samples through the model's fg.json and writes
/// the files; returns the summary lines the command prints.
package enum WorldGen {
    package static func run(config: WorldConfig, fgJSONPath: String, separator: String, out: String) throws -> [String] {
        let world = try WorldGenerator.generate(config)
        let renderer = try FGSampleRenderer(fgJSONPath: fgJSONPath, separator: separator)
        let rendered = try world.render(with: renderer)
        try WorldFiles.write(world: world, rendered: rendered, to: out)
        let s = world.summary()
        let today = s["today"] as? [String: Any] ?? [:]
        let yesterday = s["yesterday"] as? [String: Any] ?? [:]
        return [
            "world: seed \(config.seed), \(world.users.count) users, \(world.items.count) items (\(s["items_born_today"] ?? 0) born today)",
            "yesterday: \(rendered.yesterdaySamples.count) samples, CTR \(fmt(yesterday["ctr"])), true AUC \(fmt(yesterday["true_auc"]))",
            "today: \(rendered.today.count) requests, \(rendered.today.reduce(0) { $0 + $1.samples.count }) samples, "
                + "\(fmt(today["impressions_of_items_born_today"], digits: 0)) on items born today, true AUC \(fmt(today["true_auc"]))",
            "wrote \(out)/{\(WorldFiles.yesterdayFile),\(WorldFiles.todayFile),\(WorldFiles.requestsFile),\(WorldFiles.summaryFile)}",
        ]
    }

    private static func fmt(_ v: Any?, digits: Int = 3) -> String {
        guard let d = ProcessorClient.number(v) else { return "-" }
        return String(format: "%.\(digits)f", d)
    }
}
