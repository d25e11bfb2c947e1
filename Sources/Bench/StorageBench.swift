import Foundation
import Storage

/// `odl bench storage`: publishes a local folder to an object-store URL (upload) or copies a
/// published one back (download) and prints bytes and seconds; bench/run.py times boto3's
/// transfer manager on the same folder against the same server.
package struct StorageBench {
    package var mode: String
    package var local: String
    package var url: String

    package init(mode: String, local: String, url: String) {
        self.mode = mode
        self.local = local
        self.url = url
    }

    package func run() throws {
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
