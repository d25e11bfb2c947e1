import Synchronization
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Endpoint and credentials for `s3://` and `oss://` URLs: `--oss-endpoint`/`ODL_OSS_ENDPOINT`,
/// `--oss-ak`/`ODL_OSS_AK`, `--oss-sk`/`ODL_OSS_SK`, `ODL_OSS_REGION` (default us-east-1);
/// tuning: `ODL_OSS_RETRIES`, `ODL_OSS_PART_MB`, `ODL_OSS_PARALLEL`, `ODL_OSS_STALL_SECS`,
/// `ODL_OSS_CHECKSUM` (`crc32`, `off` or `auto`: see ``UploadChecksum``).
/// The secret key is never part of a description or log line.
public struct StorageSettings: Sendable, Equatable, CustomStringConvertible {
    public var endpoint: String?
    public var accessKey: String?
    public var secretKey: String?
    public var region: String
    /// Transfer attempts after the first on 5xx, 429 and transport failures.
    public var retries: Int
    /// Files at least this large go as multipart uploads / ranged parallel GETs.
    public var partSize: Int
    /// Parallel part transfers per file.
    public var parallelism: Int
    /// Seconds without progress before a transfer is abandoned (and retried).
    public var stallSeconds: Int
    /// Whether uploads carry a CRC-32 the store verifies.
    public var checksum: UploadChecksum = .auto

    public init(endpoint: String? = nil, accessKey: String? = nil, secretKey: String? = nil, region: String = "us-east-1",
                retries: Int = 5, partSize: Int = 16 << 20, parallelism: Int = 4, stallSeconds: Int = 30) {
        self.endpoint = endpoint
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
        self.retries = retries
        self.partSize = partSize
        self.parallelism = parallelism
        self.stallSeconds = stallSeconds
    }

    /// The settings from the environment (`ODL_OSS_*`).
    public static func fromEnvironment() -> StorageSettings {
        func env(_ name: String) -> String? {
            guard let v = getenv(name) else { return nil }
            let s = String(cString: v)
            return s.isEmpty ? nil : s
        }
        var s = StorageSettings(endpoint: env("ODL_OSS_ENDPOINT"), accessKey: env("ODL_OSS_AK"), secretKey: env("ODL_OSS_SK"),
                                region: env("ODL_OSS_REGION") ?? "us-east-1")
        if let r = env("ODL_OSS_RETRIES").flatMap(Int.init), r >= 0 { s.retries = r }
        if let p = env("ODL_OSS_PART_MB").flatMap(Int.init), p >= 5 { s.partSize = p << 20 }
        if let n = env("ODL_OSS_PARALLEL").flatMap(Int.init), n >= 1 { s.parallelism = min(n, 32) }
        if let t = env("ODL_OSS_STALL_SECS").flatMap(Int.init), t >= 1 { s.stallSeconds = t }
        if let c = env("ODL_OSS_CHECKSUM").flatMap(UploadChecksum.init(rawValue:)) { s.checksum = c }
        return s
    }

    /// Command-line values override the environment's.
    public func overriding(endpoint: String?, accessKey: String?, secretKey: String?) -> StorageSettings {
        var s = self
        if let endpoint, !endpoint.isEmpty { s.endpoint = endpoint }
        if let accessKey, !accessKey.isEmpty { s.accessKey = accessKey }
        if let secretKey, !secretKey.isEmpty { s.secretKey = secretKey }
        return s
    }

    public var description: String {
        "endpoint \(endpoint ?? "(none)"), region \(region), access key \(accessKey.map { String($0.prefix(4)) + "..." } ?? "(none)")"
    }

    /// Upload checksums: `crc32` sends S3's `x-amz-checksum-crc32` of every object and part
    /// (the store refuses a body that does not match; the AWS SDKs' default since 2025), `off`
    /// sends none. `auto`: CRC-32 for `s3://`, none for `oss://` (OSS checks its own CRC-64, and
    /// some S3-compatible services refuse `x-amz-checksum-*` headers).
    public enum UploadChecksum: String, Sendable, Equatable {
        case auto, crc32, off

        /// Whether a store of URL scheme `scheme` gets checksums.
        public func applies(toScheme scheme: String) -> Bool {
            switch self {
            case .crc32: return true
            case .off: return false
            case .auto: return scheme == "s3"
            }
        }
    }

    private static let current = Mutex<StorageSettings?>(nil)

    /// The process-wide settings: set once by the CLI from its flags, else the environment's.
    public static var shared: StorageSettings {
        get { current.withLock { $0 } ?? fromEnvironment() }
        set { current.withLock { $0 = newValue } }
    }
}
