import ArgumentParser
import Bench

/// `odl bench items`: the arguments of ``ItemsBench``.
struct BenchItemsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "items",
        abstract: "Item source: load rate vs COPY TO STDOUT, bytes per item, UPDATE -> new score latency; prints JSON.")

    @Option(name: .long, help: "Items in the table.")
    var rows: Int = 1_000_000
    @Option(name: .long, help: "Repetitions of the load / COPY pair (median).")
    var repeats: Int = 3
    @Option(name: .long, help: "The export to serve (`odl bench make-model --kind serving`: item features i0..i14).")
    var export: String
    @Option(name: .long, help: "UPDATE -> score trials.")
    var trials: Int = 40
    @Option(name: .long, help: "--item-refresh of the processor, seconds.")
    var refresh: Double = 1
    @Option(name: .long, help: "A second client that reads the same table (bench/postgres-nio-peer): run once per repetition with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE set and the table name as argument; its JSON line's rows_per_s is reported beside the load.")
    var peerCommand: String?

    func run() throws {
        try ItemsBench(rows: rows, repeats: repeats, export: export, trials: trials, refresh: refresh,
                       peerCommand: peerCommand).run()
    }
}
