import ArgumentParser
import Foundation

/// `odl gen`: writes the demo's synthetic click world (deterministic by --seed).
struct GenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate the demo's synthetic click world: yesterday's samples, today's samples and predict requests.",
        discussion: """
        Writes into --out: yesterday.csv (offline training samples), today.csv (time-ordered \
        samples for the sample topic), today_requests.jsonl (one predict request per page in \
        serving-api JSON form, with each item's label, ground-truth probability, whether it was \
        born today, and its line in today.csv) and world.json (ground-truth summary).
        """)

    @Option(help: "Random seed; the same seed gives byte-identical output.")
    var seed: UInt64 = 7

    @Option(help: "Output directory.")
    var out: String = "demo-out/world"

    @Option(help: "fg.json that renders the samples (the model's feature generation).")
    var fgJson: String = "models/demo/fg.json"

    @Option(help: "Field separator of sample lines (data_config.separator).")
    var separator: String = ","

    @Option(help: "Users in the world.")
    var users: Int = WorldConfig().users

    @Option(help: "Page views yesterday (each shows --items-per-page items).")
    var yesterdayPages: Int = WorldConfig().yesterdayPages

    @Option(help: "Page views today.")
    var todayPages: Int = WorldConfig().todayPages

    @Option(help: "Items shown per page.")
    var itemsPerPage: Int = WorldConfig().itemsPerPage

    @Option(help: "New items born per world hour.")
    var newItemsPerHour: Double = WorldConfig().newItemsPerHour

    func run() throws {
        var config = WorldConfig()
        config.seed = seed
        config.users = users
        config.yesterdayPages = yesterdayPages
        config.todayPages = todayPages
        config.itemsPerPage = itemsPerPage
        config.newItemsPerHour = newItemsPerHour
        let world = try WorldGenerator.generate(config)
        let renderer = try FGSampleRenderer(fgJSONPath: fgJson, separator: separator)
        let rendered = try world.render(with: renderer)
        try WorldFiles.write(world: world, rendered: rendered, to: out)
        let s = world.summary()
        let today = s["today"] as? [String: Any] ?? [:]
        let yesterday = s["yesterday"] as? [String: Any] ?? [:]
        print("world: seed \(seed), \(world.users.count) users, \(world.items.count) items (\(s["items_born_today"] ?? 0) born today)")
        print("yesterday: \(rendered.yesterdaySamples.count) samples, CTR \(fmt(yesterday["ctr"])), true AUC \(fmt(yesterday["true_auc"]))")
        print("today: \(rendered.today.count) requests, \(rendered.today.reduce(0) { $0 + $1.samples.count }) samples, "
              + "\(fmt(today["impressions_of_items_born_today"], digits: 0)) on items born today, true AUC \(fmt(today["true_auc"]))")
        print("wrote \(out)/{\(WorldFiles.yesterdayFile),\(WorldFiles.todayFile),\(WorldFiles.requestsFile),\(WorldFiles.summaryFile)}")
    }

    private func fmt(_ v: Any?, digits: Int = 3) -> String {
        guard let d = ProcessorClient.number(v) else { return "-" }
        return String(format: "%.\(digits)f", d)
    }
}
