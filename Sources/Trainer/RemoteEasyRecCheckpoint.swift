import Foundation
import Storage

/// An EasyRec (TensorFlow) checkpoint prefix on an object store, e.g.
/// `oss://bucket/ckpt/model.ckpt-240`: its `.index` and `.data-*` objects copied into a local
/// temporary folder, where the TensorBundle reader maps them. TensorFlow writes `.index` after
/// the data shards, so a prefix whose `.index` is listed is complete.
struct RemoteEasyRecCheckpoint {
    /// The local prefix (`<scratch>/model.ckpt-240`) to hand to `EasyRecCheckpoint`.
    let localPrefix: String
    /// The temporary folder; ``remove()`` deletes it.
    let scratch: String

    /// nil when `url` is not an object-store URL or no `<prefix>.index` object exists there.
    static func fetch(_ url: String) throws -> RemoteEasyRecCheckpoint? {
        guard Storage.isObjectURL(url) else { return nil }
        do {
            let loc = try Storage.location(url)
            let name = loc.name
            guard !name.isEmpty else { return nil }
            let siblings = try loc.store.list(prefix: loc.key + ".")
            guard let index = siblings.first(where: { $0.key == loc.key + ".index" }) else { return nil }
            let shards = siblings.filter { $0.key.dropFirst(loc.key.count).hasPrefix(".data-") }
            guard !shards.isEmpty else {
                throw TrainerError.checkpoint(path: url, reason: "has \(name).index but no \(name).data-* shard")
            }
            let scratch = Storage.temporaryPath("easyrec-ckpt")
            do { try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true) } catch {
                throw TrainerError.checkpoint(path: scratch, reason: "cannot create a download folder: \(error)")
            }
            let local = (scratch as NSString).appendingPathComponent(name)
            do {
                for object in shards + [index] {
                    try loc.store.download(object.key, to: local + object.key.dropFirst(loc.key.count))
                }
            } catch {
                try? FileManager.default.removeItem(atPath: scratch)
                throw error
            }
            return RemoteEasyRecCheckpoint(localPrefix: local, scratch: scratch)
        } catch let e as StorageError {
            throw TrainerError.checkpoint(path: url, reason: e.description)
        }
    }

    /// Deletes the downloaded copy.
    func remove() { try? FileManager.default.removeItem(atPath: scratch) }
}
