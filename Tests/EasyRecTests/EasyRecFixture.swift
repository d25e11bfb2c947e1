import Foundation

/// Paths of the real EasyRec fixture (Tests/Fixtures/easyrec, made by `make easyrec-fixture`).
enum EasyRecFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/easyrec").path
    static let baseExport = root + "/base_export"
    static let finalExport = root + "/final_export"
    static let checkpoint200 = root + "/checkpoints/model.ckpt-200"
    static let updates = root + "/updates"

    /// A fresh temporary folder, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "odl-easyrec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
