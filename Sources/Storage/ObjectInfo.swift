/// One stored object: its key (an absolute path for local files), size, ETag and S3 CRC-32
/// checksum when known (`<base64>` for a single upload, `<base64>-<parts>` for a multipart one).
public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int
    public var etag: String?
    public var crc32: String?

    public init(key: String, size: Int, etag: String? = nil, crc32: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.crc32 = crc32
    }
}
