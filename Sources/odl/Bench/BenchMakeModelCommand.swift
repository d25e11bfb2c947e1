import ArgumentParser
import Bench

/// `odl bench make-model`: the arguments of ``MakeModelBench``.
struct BenchMakeModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-model",
        abstract: "Write a bench export: 'serving' (20 id features, FG) or 'big' (one large table + half, bypass).")

    @Option(name: .long, help: "serving | big")
    var kind: String
    @Option(name: .long, help: "Export folder (version folder <out>/1 is created).")
    var out: String
    @Option(name: .long, help: "Rows per table (serving) or of the largest table (big).")
    var rows: Int = 100_000
    @Option(name: .long, help: "Embedding dimension.")
    var dim: Int = 16
    @Option(name: .long, help: "deep_feature hidden units.")
    var dnn: String = "256,128,64"
    @Option(name: .long, help: "final_dnn hidden units ('' for none).")
    var finalDnn: String = "64"
    @Option(name: .long, help: "Parameter seed.")
    var seed: UInt64 = 1

    func run() throws {
        try MakeModelBench(kind: kind, out: out, rows: rows, dim: dim, dnn: dnn, finalDnn: finalDnn, seed: seed).run()
    }
}
