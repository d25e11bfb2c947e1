import Foundation

/// A place in a store: the store and a key (or key prefix, for a "folder"). Callers build
/// children with ``appending(_:)`` and never need to know which kind of store it is.
public struct StorageLocation: Sendable, CustomStringConvertible {
    public let store: any ObjectStore
    /// The key (no trailing slash); for local files an absolute path.
    public let key: String
    /// True for an object store (s3://, oss://), false for local files.
    public let isRemote: Bool

    public init(store: any ObjectStore, key: String, isRemote: Bool) {
        self.store = store
        self.key = key
        self.isRemote = isRemote
    }

    /// `key/name`.
    public func appending(_ name: String) -> StorageLocation {
        let k = key.isEmpty ? name : (key.hasSuffix("/") ? key + name : key + "/" + name)
        return StorageLocation(store: store, key: k, isRemote: isRemote)
    }

    /// The last path component of the key.
    public var name: String { String(key.split(separator: "/").last ?? "") }

    public var url: String { store.url(key) }
    public var description: String { url }

    public func read() throws(StorageError) -> [UInt8] { try store.read(key) }
    public func readText() throws(StorageError) -> String { String(decoding: try store.read(key), as: UTF8.self) }
    public func write(_ bytes: [UInt8]) throws(StorageError) { try store.write(key, bytes: bytes) }
    public func write(text: String) throws(StorageError) { try store.write(key, bytes: Array(text.utf8)) }
    public func exists() throws(StorageError) -> Bool { try store.head(key) != nil }
    public func delete() throws(StorageError) { try store.delete(key) }
    public func upload(file path: String) throws(StorageError) { try store.upload(file: path, to: key) }
    public func download(to path: String) throws(StorageError) { try store.download(key, to: path) }

    /// Objects under this "folder" (`key/`), keys relative to it, sorted.
    public func listTree() throws(StorageError) -> [ObjectInfo] {
        let prefix = key.isEmpty || key.hasSuffix("/") ? key : key + "/"
        return try store.list(prefix: prefix).map { ObjectInfo(key: String($0.key.dropFirst(prefix.count)), size: $0.size, etag: $0.etag) }
    }

    /// Names of the immediate children of this "folder" (files and sub-folders), sorted, unique.
    public func childNames() throws(StorageError) -> [String] {
        var names = Set<String>()
        for o in try listTree() { if let first = o.key.split(separator: "/").first { names.insert(String(first)) } }
        return names.sorted()
    }
}

/// Parses paths and object-store URLs into ``StorageLocation``s.
public enum Storage {
    /// A new process-unique path in the temporary folder (`odl-<label>-<pid>-<random>`, not created),
    /// for local working copies of object-store data.
    public static func temporaryPath(_ label: String) -> String {
        NSTemporaryDirectory() + "odl-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// True for `s3://` and `oss://` URLs.
    public static func isObjectURL(_ s: String) -> Bool { s.hasPrefix("s3://") || s.hasPrefix("oss://") }

    /// `s3://bucket/key` or `oss://bucket/key` (through the S3-compatible API), else a local path
    /// (made absolute against the working directory).
    public static func location(_ s: String, settings: StorageSettings = .shared) throws(StorageError) -> StorageLocation {
        guard isObjectURL(s) else { return StorageLocation(store: LocalStore(), key: LocalStore.absolute(s), isRemote: false) }
        let scheme = s.hasPrefix("s3://") ? "s3" : "oss"
        let rest = s.dropFirst(scheme.count + 3)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty, bucket.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
            throw .badLocation(s, reason: "expected \(scheme)://bucket/key with a bucket name of letters, digits, '-', '.'")
        }
        var key = String(rest.dropFirst(bucket.count))
        while key.hasPrefix("/") { key.removeFirst() }
        while key.hasSuffix("/") { key.removeLast() }
        let store = try S3Store(scheme: scheme, bucket: bucket, settings: settings)
        return StorageLocation(store: store, key: key, isRemote: true)
    }
}
