import Foundation

/// fs mode (formats.md 1.5): each message becomes `<dir>/<key>`, then `<dir>/<key>.done`.
/// Several messages of one step and kind (a split sparse update) get suffixes `_1`, `_2`, ...
/// after the first so that no file is overwritten.
public final class FileUpdateSink: UpdateSink {
    public let directory: String
    private var usedKeys: Set<String> = []

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.updateDelivery(key: directory, reason: "cannot create incr_save_dir: \(error)")
        }
    }

    public func send(key: String, value: [UInt8]) throws {
        var name = key
        var n = 1
        while usedKeys.contains(name) || FileManager.default.fileExists(atPath: path(name) + ".done") {
            name = key + "_\(n)"
            n += 1
        }
        let target = path(name)
        let temp = (directory as NSString).appendingPathComponent(".\(name).tmp")
        guard FileManager.default.createFile(atPath: temp, contents: Data(value)), rename(temp, target) == 0 else {
            throw TrainerError.updateDelivery(key: key, reason: "cannot write \(target)")
        }
        guard FileManager.default.createFile(atPath: target + ".done", contents: Data()) else {
            throw TrainerError.updateDelivery(key: key, reason: "cannot write \(target).done")
        }
        usedKeys.insert(name)
    }

    public var nextOffsets: [Int32: Int64] { [:] }

    public var description: String { "files in \(directory)" }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}

/// Writes a copy of every update message to `model_dir/debug_updates/<key>` (`debug_save_update`).
public final class DebugUpdateWriter {
    public let directory: String
    private var sequence = 0

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.updateDelivery(key: directory, reason: "cannot create debug_updates: \(error)")
        }
    }

    /// Files are named `<seq>_<key>` (seq zero-padded) so that a listing sorts in send order.
    public func write(key: String, value: [UInt8]) {
        let name = String(format: "%06d_", sequence) + key
        sequence += 1
        _ = FileManager.default.createFile(atPath: (directory as NSString).appendingPathComponent(name), contents: Data(value))
    }
}
