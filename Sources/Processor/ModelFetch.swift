import Foundation
import Storage

/// `--model` and `--embedding-dir` on an object store: the newest published version (one with
/// its manifest; an unfinished upload is never picked) copied into a local temporary folder.
enum ModelFetch {
    /// A local folder for `path`: `path` itself when local, else a downloaded copy (`temporary`).
    static func localVersion(_ path: String) throws(ServeError) -> (path: String, display: String, temporary: Bool) {
        guard Storage.isObjectURL(path) else { return (path, path, false) }
        do {
            let loc = try Storage.location(path)
            guard let version = try loc.newestPublishedVersion() else {
                throw ServeError("export \(path): no complete version (a numeric folder with \(StorageLocation.manifestName))")
            }
            let copy = try version.localCopy()
            return (copy.path, version.url, true)
        } catch let e as StorageError {
            throw ServeError("export \(path): \(e.description)")
        } catch let e as ServeError {
            throw e
        } catch {
            throw ServeError("export \(path): \(error)")
        }
    }

    /// A local folder for an embedding dir (http(s) URLs are left to the export reader).
    static func localEmbeddings(_ dir: String) throws(ServeError) -> (path: String, temporary: Bool) {
        guard Storage.isObjectURL(dir) else { return (dir, false) }
        do {
            let copy = try Storage.location(dir).localCopy()
            return (copy.path, copy.temporary)
        } catch {
            throw ServeError("embedding dir \(dir): \(error.description)")
        }
    }
}
