import ArgumentParser
import Bench

/// `odl bench bf16`: the arguments of ``BF16Bench``.
struct BenchBF16Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bf16",
        abstract: "One export with f32 and with bf16 embedding rows: memory, load time, forward items/s, prob differences; prints JSON.")

    @Option(name: .long, help: "Export folder or version folder.")
    var export: String
    @Option(name: .long, help: "int64 .npy [B, F] of row ids for the speed batch (as odl bench forward); default a seeded batch of ids the tables hold.")
    var ids: String?
    @Option(name: .long, help: "Items of the seeded speed batch (without --ids).")
    var batch: Int = 128
    @Option(name: .long, help: "Items scored by both stores for the prob differences.")
    var accuracyItems: Int = 20_000
    @Option(name: .long, help: "Seconds per speed repetition.")
    var seconds: Double = 0.5
    @Option(name: .long, help: "Speed repetitions (f32 and bf16 alternate).")
    var reps: Int = 7

    func run() throws {
        guard batch > 0, accuracyItems > 0, reps > 0 else { throw ValidationError("--batch, --accuracy-items and --reps must be positive") }
        try BF16Bench(export: export, ids: ids, batchSize: batch, accuracyItems: accuracyItems, seconds: seconds, reps: reps).run()
    }
}
