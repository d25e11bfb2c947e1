/// A flat store of objects addressed by key: local files (``LocalStore``) or an S3-compatible
/// bucket (``S3Store``, also OSS). All calls block: use them from a dedicated thread.
public protocol ObjectStore: Sendable {
    /// The URL (or path) of `key` for messages and logs.
    func url(_ key: String) -> String
    /// The whole object.
    func read(_ key: String) throws(StorageError) -> [UInt8]
    /// Stores `bytes` under `key` (replacing it atomically).
    func write(_ key: String, bytes: [UInt8]) throws(StorageError)
    /// Stores the local file `path` under `key`.
    func upload(file path: String, to key: String) throws(StorageError)
    /// Copies the object into the local file `path` (created or truncated).
    func download(_ key: String, to path: String) throws(StorageError)
    /// Every object whose key starts with `prefix`, sorted by key.
    func list(prefix: String) throws(StorageError) -> [ObjectInfo]
    /// The object's size and ETag, or nil when it does not exist.
    func head(_ key: String) throws(StorageError) -> ObjectInfo?
    /// Removes the object (no error when it is already gone).
    func delete(_ key: String) throws(StorageError)
}
