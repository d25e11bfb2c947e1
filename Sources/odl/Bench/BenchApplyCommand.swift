import ArgumentParser
import Bench

/// `odl bench apply`: the arguments of ``ApplyBench``.
struct BenchApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Sparse update rows/s into the largest table vs memcpy of the same bytes; prints JSON.")

    @Option(name: .long, help: "Export folder (the big bench model).")
    var export: String
    @Option(name: .long, help: "Seconds per repetition and side.")
    var seconds: Double = 1.5
    @Option(name: .long, help: "Repetitions (alternating apply / memcpy).")
    var reps: Int = 5
    @Option(name: .long, help: "Rows per update message.")
    var rowsPerMessage: Int = 1000

    func run() throws {
        try ApplyBench(export: export, seconds: seconds, reps: reps, rowsPerMessage: rowsPerMessage).run()
    }
}
