import Foundation

/// Paths of the real EasyRec fixture (Tests/Fixtures/easyrec, made by `make easyrec-fixture`).
enum FixturePaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/easyrec").path
    static let baseExport = root + "/base_export"
    static let baseVariables = baseExport + "/variables/variables"
    static let checkpoint200 = root + "/checkpoints/model.ckpt-200"

    /// A fresh temporary folder, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "odl-tfio-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Copies the bundle at `prefix` into `dir` as `dir/copy` and returns the new prefix.
    static func copyBundle(_ prefix: String, into dir: String) throws -> String {
        let fm = FileManager.default
        let folder = (prefix as NSString).deletingLastPathComponent
        let base = (prefix as NSString).lastPathComponent
        for name in try fm.contentsOfDirectory(atPath: folder) where name.hasPrefix(base + ".") {
            try fm.copyItem(atPath: folder + "/" + name, toPath: dir + "/copy" + name.dropFirst(base.count))
        }
        return dir + "/copy"
    }
}
