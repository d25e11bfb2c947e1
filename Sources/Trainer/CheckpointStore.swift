import Foundation
import Inference
import Storage

/// A named tensor kept in a checkpoint besides the model parameters (optimizer slots, the
/// moving statistics of an optimizer, ...). `keys` is set for slots of key-value tables.
public struct CheckpointTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public var keys: [Int64]?

    public init(name: String, shape: [Int], values: [Float], keys: [Int64]? = nil) {
        self.name = name
        self.shape = shape
        self.values = values
        self.keys = keys
    }
}

/// Everything one checkpoint holds (formats.md section 3).
public struct CheckpointContents: Sendable, Equatable {
    public var globalStep: Int
    public var parameters: ModelParameters
    public var slots: [CheckpointTensor]
    /// Next offset per partition of the update topic after the last acknowledged update.
    public var updateOffsets: [Int32: Int64]
    /// The `.offset` file: last sample offset consumed per input partition (nil: file input).
    public var inputOffsets: [Int32: Int64]?
    /// DataHub input: the cursor of the next unread record per shard, saved beside `inputOffsets`.
    public var inputCursors: [Int32: String]

    public init(globalStep: Int, parameters: ModelParameters, slots: [CheckpointTensor] = [],
                updateOffsets: [Int32: Int64] = [:], inputOffsets: [Int32: Int64]? = nil, inputCursors: [Int32: String] = [:]) {
        self.globalStep = globalStep
        self.parameters = parameters
        self.slots = slots
        self.updateOffsets = updateOffsets
        self.inputOffsets = inputOffsets
        self.inputCursors = inputCursors
    }
}

/// A checkpoint folder `model.ckpt-<step>` on disk.
public struct CheckpointRef: Sendable, Equatable {
    public var step: Int
    /// Path of the `model.ckpt-<step>` folder.
    public var path: String
    /// Path of its `model.ckpt-<step>.offset` file.
    public var offsetPath: String { path + ".offset" }
}

/// The checkpoints of one model_dir: atomic writes, rotation, latest lookup, reads.
/// With `remote` (an object-store model_dir) `directory` is a local working copy and every
/// checkpoint is also published to `remote` (see CheckpointStore+Remote.swift).
public struct CheckpointStore: Sendable {
    public let directory: String
    public let remote: StorageLocation?

    public init(directory: String, remote: StorageLocation? = nil) {
        self.directory = directory
        self.remote = remote
    }

    /// Where `OSS_STOP_SIGNAL` is looked for: in the object-store model_dir when there is one.
    public var stopSignalPath: String {
        remote?.appending("OSS_STOP_SIGNAL").url ?? (directory as NSString).appendingPathComponent("OSS_STOP_SIGNAL")
    }

    static let prefix = "model.ckpt-"

    /// All complete checkpoints (folders with an index.json), oldest first.
    public func all() -> [CheckpointRef] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var refs: [CheckpointRef] = []
        for name in names where name.hasPrefix(Self.prefix) {
            guard let step = Int(name.dropFirst(Self.prefix.count)), step >= 0 else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("index.json")) {
                refs.append(CheckpointRef(step: step, path: path))
            }
        }
        return refs.sorted { $0.step < $1.step }
    }

    /// The checkpoint named by the `checkpoint` file when it is complete, else the highest complete one.
    public func latest() -> CheckpointRef? {
        let complete = all()
        let stateFile = (directory as NSString).appendingPathComponent("checkpoint")
        if let text = try? String(contentsOfFile: stateFile, encoding: .utf8),
           let name = Self.parseStateFile(text),
           let step = Int(name.dropFirst(Self.prefix.count)),
           let ref = complete.first(where: { $0.step == step }) {
            // The state file is written after the folder rename; prefer a newer complete folder.
            return complete.last.map { $0.step > ref.step ? $0 : ref } ?? ref
        }
        return complete.last
    }

    /// Parses `model_checkpoint_path: "model.ckpt-<step>"` (absolute paths allowed) into the folder name.
    static func parseStateFile(_ text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("model_checkpoint_path:") {
            let value = line.dropFirst("model_checkpoint_path:".count).trimmingCharacters(in: .whitespaces)
            let unquoted = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (unquoted as NSString).lastPathComponent
        }
        return nil
    }

    /// Resolves a checkpoint path: a `model.ckpt-<step>` folder (or its prefix), or a
    /// directory meaning its latest checkpoint.
    public static func resolve(path: String) throws -> CheckpointRef {
        if Storage.isObjectURL(path) { return try resolveRemote(url: path) }
        let last = (path as NSString).lastPathComponent
        if last.hasPrefix(prefix), let step = Int(last.dropFirst(prefix.count)) {
            guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("index.json")) else {
                throw TrainerError.checkpoint(path: path, reason: "no index.json (not a complete checkpoint)")
            }
            return CheckpointRef(step: step, path: path)
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw TrainerError.checkpoint(path: path, reason: "no such checkpoint or directory")
        }
        guard let ref = CheckpointStore(directory: path).latest() else {
            throw TrainerError.checkpoint(path: path, reason: "directory holds no complete model.ckpt-<step> checkpoint")
        }
        return ref
    }

    /// Writes a checkpoint atomically (its `.offset` file, then a temporary folder renamed into place),
    /// updates the `checkpoint` state file and keeps at most `keep` checkpoints.
    @discardableResult
    public func write(_ contents: CheckpointContents, spec: ModelSpec, keep: Int) throws -> CheckpointRef {
        let fm = FileManager.default
        try createDirectory(directory)
        let name = Self.prefix + String(contents.globalStep)
        let final = (directory as NSString).appendingPathComponent(name)
        let temp = (directory as NSString).appendingPathComponent(".tmp-" + name + "-\(getpid())")
        try? fm.removeItem(atPath: temp)
        try CheckpointFormat.writeFolder(contents, spec: spec, to: temp)
        let ref = CheckpointRef(step: contents.globalStep, path: final)
        // The .offset file goes first: a folder is only visible to a restart (``all()``) once
        // renamed into place, so a crash at any point never leaves a checkpoint without its
        // input offsets. A stray .offset without a folder is ignored.
        if let offsets = contents.inputOffsets {
            try Self.atomicWrite(OffsetMap.encode(offsets, cursors: contents.inputCursors), to: ref.offsetPath)
        } else {
            try? fm.removeItem(atPath: ref.offsetPath)
        }
        if fm.fileExists(atPath: final) {
            // Re-saving the same step (e.g. a final save right after a periodic one): replace it.
            try? fm.removeItem(atPath: final)
        }
        do {
            try fm.moveItem(atPath: temp, toPath: final)
        } catch {
            throw TrainerError.checkpoint(path: final, reason: "rename from \(temp) failed: \(error)")
        }
        try Self.atomicWrite("model_checkpoint_path: \"\(name)\"\nall_model_checkpoint_paths: \"\(name)\"\n",
                             to: (directory as NSString).appendingPathComponent("checkpoint"))
        try rotate(keep: keep)
        if let remote { try publish(ref, to: remote, keep: keep) }
        return ref
    }

    /// Deletes the oldest checkpoints (and their .offset files) beyond `keep` (0 keeps all).
    public func rotate(keep: Int) throws {
        guard keep > 0 else { return }
        let refs = all()
        guard refs.count > keep else { return }
        for ref in refs.prefix(refs.count - keep) {
            try? FileManager.default.removeItem(atPath: ref.path)
            try? FileManager.default.removeItem(atPath: ref.offsetPath)
        }
    }

    /// Reads a checkpoint, validating every variable against `spec`.
    public static func read(_ ref: CheckpointRef, spec: ModelSpec) throws -> CheckpointContents {
        var contents = try CheckpointFormat.readFolder(ref.path, spec: spec)
        if let saved = try OffsetMap.readWithCursors(path: ref.offsetPath) {
            contents.inputOffsets = saved.offsets
            contents.inputCursors = saved.cursors
        }
        return contents
    }

    func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.checkpoint(path: path, reason: "cannot create directory: \(error)")
        }
    }

    /// Writes text to a temporary sibling and renames it over `path`.
    static func atomicWrite(_ text: String, to path: String) throws {
        try atomicWrite(Data(text.utf8), to: path)
    }

    static func atomicWrite(_ data: Data, to path: String) throws {
        let temp = path + ".tmp-\(getpid())"
        do {
            try data.write(to: URL(fileURLWithPath: temp))
        } catch {
            throw TrainerError.checkpoint(path: path, reason: "write failed: \(error)")
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: temp)
            throw TrainerError.checkpoint(path: path, reason: "rename failed: errno \(code)")
        }
    }
}
