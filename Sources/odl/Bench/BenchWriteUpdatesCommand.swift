import ArgumentParser
import Bench

/// `odl bench write-updates`: the arguments of ``WriteUpdatesBench``.
struct BenchWriteUpdatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-updates",
        abstract: "Write sparse_update_<step> + .done files for fs-mode replay; prints JSON.")

    @Option(name: .long, help: "Export whose model the updates fit.")
    var export: String
    @Option(name: .long, help: "Folder to write into (created).")
    var dir: String
    @Option(name: .long, help: "Total bytes of update files.")
    var bytes: Int
    @Option(name: .long, help: "Rows per message.")
    var rowsPerMessage: Int = 1000

    func run() throws {
        try WriteUpdatesBench(export: export, dir: dir, bytes: bytes, rowsPerMessage: rowsPerMessage).run()
    }
}
