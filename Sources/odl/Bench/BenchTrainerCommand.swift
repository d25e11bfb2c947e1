import ArgumentParser
import Bench

/// `odl bench trainer`: the arguments of ``TrainerBench``.
struct BenchTrainerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trainer", abstract: "TrainerBenchmark samples/s; prints JSON.")

    @Option(name: .long, help: "Batch size.")
    var batchSize: Int = 512
    @Option(name: .long, help: "Training steps measured.")
    var steps: Int = 60
    @Option(name: .long, help: "Training threads (the target is measured with 2).")
    var threads: Int = 2

    func run() throws {
        try TrainerBench(batchSize: batchSize, steps: steps, threads: threads).run()
    }
}
