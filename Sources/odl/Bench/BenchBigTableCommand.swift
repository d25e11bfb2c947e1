import ArgumentParser
import Bench
import Foundation

/// `odl bench big-table`: the arguments of ``BigTableBench``.
struct BenchBigTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "big-table",
        abstract: "A key-value table bigger than RAM served with --memory-budget, cold page cache: load, predict latency, RSS; prints JSON.")

    @Option(name: .long, help: "Export folder (written when it holds no model yet).")
    var dir: String
    @Option(name: .long, help: "Rows of the key-value table.")
    var rows: Int = 200_000_000
    @Option(name: .long, help: "Embedding width.")
    var dim: Int = 16
    @Option(name: .long, help: "Predict requests (sequential, one connection).")
    var requests: Int = 2000
    @Option(name: .long, help: "Items per request.")
    var items: Int = 100
    @Option(name: .long, help: "Zipf exponent of the item ids (above 1).")
    var zipf: Double = 1.1
    @Option(name: .long, help: "The server's --memory-budget.")
    var memoryBudget: String = "4G"

    func run() throws {
        try BigTableBench(dir: dir, rows: rows, dim: dim, requests: requests, items: items, zipf: zipf,
                          memoryBudget: memoryBudget, odl: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).run()
    }
}
