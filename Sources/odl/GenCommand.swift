import ArgumentParser
import Demo
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
        for line in try WorldGen.run(config: config, fgJSONPath: fgJson, separator: separator, out: out) {
            print(line)
        }
    }
}
