import ArgumentParser

/// `odl bench`: the in-process halves of `make bench` (see bench/run.py and BENCHMARKS.md).
/// Every subcommand prints one JSON object as its last stdout line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark building blocks used by `make bench` (prints JSON).",
        shouldDisplay: false,
        subcommands: BenchCommand.available)

    static let available: [any ParsableCommand.Type] = [
        BenchMakeModelCommand.self, BenchForwardCommand.self, BenchApplyCommand.self,
        BenchWriteUpdatesCommand.self, BenchProduceUpdatesCommand.self, BenchConsumeCommand.self,
        BenchFreshnessCommand.self, BenchTrainerCommand.self, BenchItemsCommand.self, BenchStorageCommand.self,
        BenchCreateTopicsCommand.self, BenchBigTableCommand.self, BenchKVInsertCommand.self, BenchBF16Command.self,
    ]
}
