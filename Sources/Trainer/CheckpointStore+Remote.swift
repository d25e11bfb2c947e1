import Foundation
import Inference
import Storage

/// Checkpoints in an object-store model_dir (`s3://`, `oss://`). Layout as on disk:
/// `model.ckpt-<step>/...`, `model.ckpt-<step>.offset`, `checkpoint`. A checkpoint folder is
/// complete only once its manifest object is there (written last, after the `.offset`), so a
/// restart after a crash mid-upload resumes from the previous complete one.
extension CheckpointStore {
    /// Uploads a just-written local checkpoint, then the `checkpoint` state file, then rotates.
    func publish(_ ref: CheckpointRef, to remote: StorageLocation, keep: Int) throws {
        let name = CheckpointStore.prefix + String(ref.step)
        do {
            if FileManager.default.fileExists(atPath: ref.offsetPath) {
                try remote.appending(name + ".offset").upload(file: ref.offsetPath)
            }
            // Upload a copy so the local folder stays a usable working copy.
            let dest = remote.appending(name)
            let staging = try dest.makeStaging()
            do { try FileManager.default.copyItem(atPath: ref.path, toPath: staging) } catch {
                throw TrainerError.checkpoint(path: ref.path, reason: "cannot stage for upload: \(error)")
            }
            try dest.publish(staging: staging)
            try remote.appending("checkpoint").write(text: "model_checkpoint_path: \"\(name)\"\nall_model_checkpoint_paths: \"\(name)\"\n")
            if keep > 0 {
                let steps = try Self.remoteSteps(remote)
                for old in steps.dropLast(keep) {
                    let oldName = CheckpointStore.prefix + String(old)
                    try remote.appending(oldName).unpublish()
                    try remote.appending(oldName + ".offset").delete()
                }
            }
        } catch let e as StorageError {
            throw TrainerError.checkpoint(path: remote.appending(name).url, reason: e.description)
        }
    }

    /// Steps of the complete (published) checkpoints under `remote`, ascending.
    static func remoteSteps(_ remote: StorageLocation) throws(StorageError) -> [Int] {
        var steps: [Int] = []
        for o in try remote.listTree() {
            let parts = o.key.split(separator: "/")
            guard parts.count == 2, parts[1] == StorageLocation.manifestName, parts[0].hasPrefix(CheckpointStore.prefix),
                  let step = Int(parts[0].dropFirst(CheckpointStore.prefix.count)), step >= 0 else { continue }
            steps.append(step)
        }
        return steps.sorted()
    }

    /// Copies the newest complete remote checkpoint (and its `.offset`) into `directory`, replacing
    /// whatever the local working copy held. Returns its step, or nil when the remote has none.
    @discardableResult
    public func pullLatest() throws -> Int? {
        guard let remote else { return nil }
        do {
            guard let step = try Self.remoteSteps(remote).last else { return nil }
            try? FileManager.default.removeItem(atPath: directory)
            try createDirectory(directory)
            try Self.fetch(remote, step: step, into: directory)
            return step
        } catch let e as StorageError {
            throw TrainerError.checkpoint(path: remote.url, reason: e.description)
        }
    }

    static func fetch(_ remote: StorageLocation, step: Int, into directory: String) throws {
        let name = prefix + String(step)
        let copy = try remote.appending(name).localCopy(scratch: directory)
        let final = (directory as NSString).appendingPathComponent(name)
        try? FileManager.default.removeItem(atPath: final)
        guard rename(copy.path, final) == 0 else {
            throw TrainerError.checkpoint(path: final, reason: "rename from \(copy.path) failed: errno \(errno)")
        }
        let offset = remote.appending(name + ".offset")
        if try offset.exists() { try offset.download(to: final + ".offset") }
    }

    /// A remote `model.ckpt-<step>` folder, or a remote model_dir meaning its latest complete
    /// checkpoint, downloaded into a new local temporary folder.
    static func resolveRemote(url: String) throws -> CheckpointRef {
        do {
            let loc = try Storage.location(url)
            let scratch = Storage.temporaryPath("ckpt")
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let step: Int
            if loc.name.hasPrefix(prefix), let s = Int(loc.name.dropFirst(prefix.count)) {
                guard try loc.isPublished() else {
                    throw TrainerError.checkpoint(path: url, reason: "no \(StorageLocation.manifestName) (not a complete checkpoint)")
                }
                let parent = StorageLocation(store: loc.store, key: String(loc.key.dropLast(loc.name.count + 1)), isRemote: true)
                try fetch(parent, step: s, into: scratch)
                step = s
            } else {
                guard let s = try remoteSteps(loc).last else {
                    throw TrainerError.checkpoint(path: url, reason: "holds no complete model.ckpt-<step> checkpoint")
                }
                try fetch(loc, step: s, into: scratch)
                step = s
            }
            return CheckpointRef(step: step, path: (scratch as NSString).appendingPathComponent(prefix + String(step)))
        } catch let e as StorageError {
            throw TrainerError.checkpoint(path: url, reason: e.description)
        }
    }

    /// Resolves `path` (local or object store) and reads it; a downloaded copy is removed afterwards.
    public static func load(path: String, spec: ModelSpec) throws -> (ref: CheckpointRef, contents: CheckpointContents) {
        let ref = try resolve(path: path)
        defer {
            if Storage.isObjectURL(path) { try? FileManager.default.removeItem(atPath: (ref.path as NSString).deletingLastPathComponent) }
        }
        return (ref, try read(ref, spec: spec))
    }
}
