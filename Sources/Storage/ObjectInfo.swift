/// One stored object: its key (an absolute path for local files), size and ETag when known.
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int
    public var etag: String?

    public init(key: String, size: Int, etag: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}
