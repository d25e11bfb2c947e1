import ArgumentParser
import Bench

/// `odl bench kv-insert`: the arguments of ``KVInsertBench``.
struct BenchKVInsertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-insert",
        abstract: "Sparse update rows/s into a key-value table when every key is new (inserts) vs memcpy; prints JSON.")

    @Option(name: .long, help: "Rows in the table before the first insert.")
    var initialRows: Int = 10_000_000
    @Option(name: .long, help: "Seconds per repetition and side.")
    var seconds: Double = 1.0
    @Option(name: .long, help: "Repetitions (alternating inserts / memcpy).")
    var reps: Int = 5
    @Option(name: .long, help: "Rows per update message.")
    var rowsPerMessage: Int = 1000
    @Option(name: .long, help: "Embedding width.")
    var dim: Int = 16

    @Option(name: .long, help: "Room for this many new keys made before the reps (as serve --kv-reserve-rows); each insert rep then inserts at most reserve/reps rows.")
    var reserveRows: Int = 0

    @Flag(name: .long, inversion: .prefixedNo, help: "Predict on another thread while inserting.")
    var predict = true

    func run() throws {
        var bench = KVInsertBench(initialRows: initialRows, seconds: seconds, reps: reps, rowsPerMessage: rowsPerMessage, dim: dim,
                                  predict: predict)
        bench.reserveRows = reserveRows
        try bench.run()
    }
}
