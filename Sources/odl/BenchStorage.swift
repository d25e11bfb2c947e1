import ArgumentParser
import Foundation
import Storage

/// `odl bench storage`: publishes a local folder to an object-store URL (upload) or copies a
/// published one back (download) and prints bytes and seconds; bench/run.py times boto3's
/// transfer manager on the same folder against the same server.
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
        let loc = try Storage.location(url)
        let t = BenchSupport.now()
        let bytes: Int
        switch mode {
        case "upload":
            // publish() consumes its staging folder: hand it a hard-linked copy (no data copied).
            let staging = try loc.makeStaging()
            let cp = Process()
            cp.executableURL = URL(fileURLWithPath: "/bin/cp")
            cp.arguments = ["-al", local, staging]
            try cp.run()
            cp.waitUntilExit()
            guard cp.terminationStatus == 0 else { throw BenchError("cp -al \(local) \(staging) failed") }
            let start = BenchSupport.now()
            try loc.publish(staging: staging)
            bytes = try loc.manifestFiles().reduce(0) { $0 + $1.size }
            try BenchSupport.emit(["bytes": bytes, "seconds": BenchSupport.now() - start, "mode": mode])
        case "download":
            let copy = try loc.localCopy(scratch: local)
            bytes = try loc.manifestFiles().reduce(0) { $0 + $1.size }
            try BenchSupport.emit(["bytes": bytes, "seconds": BenchSupport.now() - t, "mode": mode, "path": copy.path])
        default:
            throw BenchError("--mode: \"\(mode)\" is not upload or download")
        }
    }
}
