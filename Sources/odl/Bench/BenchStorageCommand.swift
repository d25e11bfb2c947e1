import ArgumentParser
import Bench

/// `odl bench storage`: the arguments of ``StorageBench``.
struct BenchStorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Upload a folder to s3:// (publish) or download a published one; prints JSON.")

    @Option(name: .long, help: "upload | download")
    var mode: String
    @Option(name: .long, help: "Local folder (source of an upload, parent of a download).")
    var local: String
    @Option(name: .long, help: "s3:// or oss:// folder URL.")
    var url: String
    @OptionGroup var storage: StorageFlags

    func run() throws {
        storage.apply()
        try StorageBench(mode: mode, local: local, url: url).run()
    }
}
