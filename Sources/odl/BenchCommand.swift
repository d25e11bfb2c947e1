import ArgumentParser
import Foundation
import Inference
import Trainer

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
        BenchCreateTopicsCommand.self,
    ]
}

/// `odl bench make-model`: writes a bench export (see ``BenchModel``).
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
        guard rows > 0, dim > 0 else { throw BenchError("--rows and --dim must be positive") }
        let hidden = try BenchSupport.intList(dnn, flag: "--dnn")
        let final = finalDnn.isEmpty ? nil : try BenchSupport.intList(finalDnn, flag: "--final-dnn")
        let model: BenchModel
        switch kind {
        case "serving": model = .serving(rows: rows, dim: dim, dnn: hidden, finalDnn: final)
        case "big": model = .big(rows: rows, dim: dim, dnn: hidden, finalDnn: final)
        default: throw BenchError("--kind: \"\(kind)\" is not serving or big")
        }
        let t = BenchSupport.now()
        let (v, bytes) = try model.write(exportDir: out, seed: seed)
        try BenchSupport.emit([
            "version_dir": v, "parameter_bytes": bytes, "seconds": BenchSupport.now() - t,
            "features": model.features.map(\.name),
            "user_features": model.features.filter { $0.side == "user" }.map(\.name),
            "item_features": model.features.filter { $0.side == "item" }.map(\.name),
            "fg": model.withFG,
        ])
    }
}

/// `odl bench trainer`: the trainer module's own throughput benchmark (demo-sized model).
struct BenchTrainerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trainer", abstract: "TrainerBenchmark samples/s; prints JSON.")

    @Option(name: .long, help: "Batch size.")
    var batchSize: Int = 512
    @Option(name: .long, help: "Training steps measured.")
    var steps: Int = 60
    @Option(name: .long, help: "Training threads (the target is measured with 2).")
    var threads: Int = 2

    func run() throws {
        let report = TrainerBenchmark.run(batchSize: batchSize, steps: steps, threads: threads)
        var object: [String: Any] = ["report": report, "batch_size": batchSize, "steps": steps, "threads": threads]
        // "train N samples/s wall" is the figure; the report format is TrainerBenchmark's.
        if let r = report.range(of: #"train ([0-9.]+) samples/s"#, options: .regularExpression) {
            let number = report[r].split(separator: " ")[1]
            object["train_samples_per_s"] = Double(number) ?? 0
        }
        if let r = report.range(of: #"predict ([0-9.]+) samples/s"#, options: .regularExpression) {
            object["predict_samples_per_s"] = Double(report[r].split(separator: " ")[1]) ?? 0
        }
        try BenchSupport.emit(object)
    }
}

