import Foundation
import Storage

/// fs mode (formats.md 1.5): each message becomes `<dir>/<key>`, then `<dir>/<key>.done`.
/// Several messages of one step and kind (a split sparse update) get suffixes `_1`, `_2`, ...
/// after the first so that no file is overwritten. `directory` may be an object-store URL.
public final class FileUpdateSink: UpdateSink {
    public let directory: String
    private let location: StorageLocation
    private var usedKeys: Set<String> = []

    public init(directory: String) throws {
        self.directory = directory
        do throws(StorageError) {
            location = try Storage.location(directory)
        } catch {
            throw TrainerError.updateDelivery(key: directory, reason: "incr_save_dir: \(error.description)")
        }
        guard !location.isRemote else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.updateDelivery(key: directory, reason: "cannot create incr_save_dir: \(error)")
        }
    }

    public func send(key: String, value: [UInt8]) throws {
        var name = key
        var n = 1
        do throws(StorageError) {
            while try usedKeys.contains(name) ? true : location.appending(name + ".done").exists() {
                name = key + "_\(n)"
                n += 1
            }
            // The message (atomic: a temporary sibling renamed, or one PUT), then its marker.
            try location.appending(name).write(value)
            try location.appending(name + ".done").write([])
        } catch {
            throw TrainerError.updateDelivery(key: key, reason: "\(error.description)")
        }
        usedKeys.insert(name)
    }

    public var nextOffsets: [Int32: Int64] { [:] }

    public var description: String { "files in \(directory)" }
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
