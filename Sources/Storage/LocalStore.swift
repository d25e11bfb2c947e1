import Foundation

/// Local files as an ``ObjectStore``: keys are absolute paths; writes go to a temporary
/// sibling renamed into place, so a reader never sees half a file.
public struct LocalStore: ObjectStore {
    public init() {}

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    public func url(_ key: String) -> String { key }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    public func read(_ key: String) throws(StorageError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: key) else { throw .notFound(url: key, detail: "no such file") }
        guard let d = FileManager.default.contents(atPath: key) else { throw .io(path: key, detail: "cannot read") }
        return [UInt8](d)
    }

    func makeParent(_ key: String) throws(StorageError) {
        let dir = (key as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .io(path: dir, detail: "cannot create directory: \(error)")
        }
    }

    public func write(_ key: String, bytes: [UInt8]) throws(StorageError) {
        try replace(key) { (temp: String) throws(StorageError) in
            guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else {
                throw .io(path: temp, detail: "cannot write: \(Self.errnoText())")
            }
        }
    }

    public func upload(file path: String, to key: String) throws(StorageError) {
        guard path != key else { return }
        try replace(key) { (temp: String) throws(StorageError) in
            do { try FileManager.default.copyItem(atPath: path, toPath: temp) } catch {
                throw .io(path: path, detail: "cannot copy to \(temp): \(error)")
            }
        }
    }

    /// `fill` writes a temporary sibling of `key`, which is then renamed over it.
    private func replace(_ key: String, fill: (String) throws(StorageError) -> Void) throws(StorageError) {
        try makeParent(key)
        let temp = key + ".tmp-\(getpid())"
        unlink(temp)
        try fill(temp)
        guard rename(temp, key) == 0 else {
            let e = Self.errnoText()
            unlink(temp)
            throw .io(path: key, detail: "rename from \(temp) failed: \(e)")
        }
    }

    public func download(_ key: String, to path: String) throws(StorageError) {
        guard path != key else { return }
        guard FileManager.default.fileExists(atPath: key) else { throw .notFound(url: key, detail: "no such file") }
        unlink(path)
        do { try FileManager.default.copyItem(atPath: key, toPath: path) } catch {
            throw .io(path: path, detail: "cannot copy from \(key): \(error)")
        }
    }

    public func list(prefix: String) throws(StorageError) -> [ObjectInfo] {
        // The folder holding the prefix; then every file below it whose path starts with the prefix.
        let dir = prefix.hasSuffix("/") ? String(prefix.dropLast()) : (prefix as NSString).deletingLastPathComponent
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { return [] }
        guard let walker = fm.enumerator(atPath: dir) else { throw .io(path: dir, detail: "cannot list") }
        var out: [ObjectInfo] = []
        while let rel = walker.nextObject() as? String {
            let full = dir + "/" + rel
            guard full.hasPrefix(prefix), let attrs = try? fm.attributesOfItem(atPath: full),
                  (attrs[.type] as? FileAttributeType) == .typeRegular else { continue }
            out.append(ObjectInfo(key: full, size: (attrs[.size] as? Int) ?? 0))
        }
        return out.sorted { $0.key < $1.key }
    }

    public func head(_ key: String) throws(StorageError) -> ObjectInfo? {
        var st = stat()
        guard stat(key, &st) == 0 else { return nil }
        return ObjectInfo(key: key, size: Int(st.st_size))
    }

    public func delete(_ key: String) throws(StorageError) {
        if unlink(key) != 0 && errno != ENOENT {
            if errno == EISDIR || errno == EPERM {
                do { try FileManager.default.removeItem(atPath: key) } catch { throw .io(path: key, detail: "cannot delete: \(error)") }
                return
            }
            throw .io(path: key, detail: "cannot delete: \(Self.errnoText())")
        }
    }
}
