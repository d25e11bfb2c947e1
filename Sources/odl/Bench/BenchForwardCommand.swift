import ArgumentParser
import Bench

/// `odl bench forward`: the arguments of ``ForwardBench``.
struct BenchForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Forward items/s of an export on given bucket ids (one thread); prints JSON.")

    @Option(name: .long, help: "Export folder or version folder.")
    var export: String
    @Option(name: .long, help: "int64 .npy [B, F] of row ids; column k feeds the k-th deep feature.")
    var ids: String
    @Option(name: .long, help: "Seconds to measure (0: one forward pass, for --probs-out).")
    var seconds: Double = 0.5
    @Option(name: .long, help: "Write the probs of the batch here (.npy float32 [B]).")
    var probsOut: String?

    func run() throws {
        try ForwardBench(export: export, ids: ids, seconds: seconds, probsOut: probsOut).run()
    }
}
