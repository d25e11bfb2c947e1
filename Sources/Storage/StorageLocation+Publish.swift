import Foundation

/// Atomic publication of a folder ("version": a checkpoint, an export, an embedding folder).
///
/// The writer fills a local staging folder from ``makeStaging()`` and calls ``publish(staging:)``.
/// Locally that is one rename. In an object store every file is uploaded first and the
/// manifest object ``manifestName`` (file names and sizes) last: readers (``isPublished()``,
/// ``localCopy(scratch:)``, ``newestPublishedVersion()``) ignore a version without it, so an
/// upload that dies halfway is never used.
extension StorageLocation {
    /// The marker written last into a published object-store folder.
    public static let manifestName = "_odl_manifest.json"

    /// A local path (not yet existing; its parent does) to write the version folder into before
    /// ``publish(staging:)``: beside the target when local (one rename), else in the temporary folder.
    public func makeStaging() throws(StorageError) -> String {
        let path = isRemote
            ? Storage.temporaryPath("stage")
            : key + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        let parent = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
            throw .io(path: parent, detail: "cannot create folder: \(error)")
        }
        return path
    }

    /// Files below `dir`, relative paths, sorted.
    static func localFiles(_ dir: String) throws(StorageError) -> [(path: String, size: Int)] {
        guard let walker = FileManager.default.enumerator(atPath: dir) else { throw .io(path: dir, detail: "cannot list") }
        var out: [(String, Int)] = []
        while let rel = walker.nextObject() as? String {
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: dir + "/" + rel),
                  (attrs[.type] as? FileAttributeType) == .typeRegular else { continue }
            out.append((rel, (attrs[.size] as? Int) ?? 0))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Makes the staged folder visible here as a whole, then removes the staging folder.
    public func publish(staging: String) throws(StorageError) {
        guard isRemote else {
            if FileManager.default.fileExists(atPath: key) { try? FileManager.default.removeItem(atPath: key) }
            guard rename(staging, key) == 0 else {
                throw .io(path: key, detail: "rename from \(staging) failed: \(LocalStore.errnoText())")
            }
            return
        }
        let files = try Self.localFiles(staging).filter { $0.path != Self.manifestName }
        // A re-published version (same name) is hidden first, so no reader mixes old and new files.
        try appending(Self.manifestName).delete()
        let settings = StorageSettings.shared
        let here = self
        try Parallel.run(files.count, width: settings.parallelism) { (i: Int) throws(StorageError) in
            try here.appending(files[i].path).upload(file: staging + "/" + files[i].path)
        }
        let entries = files.map { "    {\"path\": \(Self.quote($0.path)), \"size\": \($0.size)}" }.joined(separator: ",\n")
        try appending(Self.manifestName).write(text: "{\n  \"files\": [\n\(entries)\n  ]\n}\n")
        try? FileManager.default.removeItem(atPath: staging)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// True when a complete version is here (object store: its manifest exists; local: the folder).
    public func isPublished() throws(StorageError) -> Bool {
        guard isRemote else {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: key, isDirectory: &isDir) && isDir.boolValue
        }
        return try appending(Self.manifestName).exists()
    }

    /// The manifest's files (relative path, size) of a published object-store folder.
    public func manifestFiles() throws(StorageError) -> [(path: String, size: Int)] {
        let m = appending(Self.manifestName)
        let bytes: [UInt8]
        do { bytes = try m.read() } catch {
            if error.isNotFound { throw .notFound(url: url, detail: "not a complete version: no \(Self.manifestName) (unfinished upload?)") }
            throw error
        }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let files = obj["files"] as? [[String: Any]] else {
            throw .integrity(url: m.url, detail: "manifest is not {\"files\": [{\"path\", \"size\"}]}")
        }
        var out: [(String, Int)] = []
        for f in files {
            guard let p = f["path"] as? String, let s = f["size"] as? Int, !p.hasPrefix("/"), !p.split(separator: "/").contains("..") else {
                throw .integrity(url: m.url, detail: "bad manifest entry \(f)")
            }
            out.append((p, s))
        }
        return out
    }

    /// A local folder with this version's files: the folder itself when local; else a download
    /// into a new folder under `scratch` (sizes checked against the manifest), `temporary` true.
    public func localCopy(scratch: String = NSTemporaryDirectory()) throws(StorageError) -> (path: String, temporary: Bool) {
        guard isRemote else { return (key, false) }
        let files = try manifestFiles()
        let dir = scratch + (scratch.hasSuffix("/") ? "" : "/") + "odl-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let here = self
        do {
            for f in files {
                let parent = ((dir + "/" + f.path) as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
        } catch { throw .io(path: dir, detail: "cannot create folder: \(error)") }
        do throws(StorageError) {
            try Parallel.run(files.count, width: StorageSettings.shared.parallelism) { (i: Int) throws(StorageError) in
                let local = dir + "/" + files[i].path
                try here.appending(files[i].path).download(to: local)
                let got = (try? FileManager.default.attributesOfItem(atPath: local)[.size] as? Int) ?? -1
                guard got == files[i].size else {
                    throw .integrity(url: here.appending(files[i].path).url, detail: "downloaded \(got) bytes, the manifest says \(files[i].size)")
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        return (dir, true)
    }

    /// The newest published numeric version below this folder (e.g. `<export_dir>/<unix time>`),
    /// or this folder itself when it is a published version; nil when there is none.
    public func newestPublishedVersion() throws(StorageError) -> StorageLocation? {
        if isRemote, try isPublished() { return self }
        guard isRemote else { return nil }
        let versions = try listTree().compactMap { o -> Int64? in
            let parts = o.key.split(separator: "/")
            guard parts.count == 2, parts[1] == Self.manifestName, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int64(parts[0])
        }
        return versions.max().map { appending(String($0)) }
    }

    /// Deletes a published object-store folder: the manifest first (so it stops being a version), then its files.
    public func unpublish() throws(StorageError) {
        guard isRemote else {
            try? FileManager.default.removeItem(atPath: key)
            return
        }
        try appending(Self.manifestName).delete()
        for o in try listTree() { try appending(o.key).delete() }
    }
}
