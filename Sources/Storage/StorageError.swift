/// Why a storage operation failed; every case names the object (URL or path) it concerns.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    /// The object or bucket does not exist (HTTP 404, or no local file).
    case notFound(url: String, detail: String)
    /// The store refused the credentials or the request (HTTP 401/403): wrong key, no permission.
    case accessDenied(url: String, detail: String)
    /// Any other HTTP error status after the retries.
    case http(url: String, status: Int, detail: String)
    /// Connection, timeout or other transport failure after the retries.
    case transport(url: String, detail: String)
    /// A transfer finished but its size or ETag does not match what the store reported.
    case integrity(url: String, detail: String)
    /// A local file could not be read or written.
    case io(path: String, detail: String)
    /// A storage URL or setting that cannot be used.
    case badLocation(String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let u, let d): return "\(u): not found\(d.isEmpty ? "" : " (\(d))")"
        case .accessDenied(let u, let d): return "\(u): access denied (\(d)); check --oss-ak/--oss-sk (ODL_OSS_AK/ODL_OSS_SK) and the bucket policy"
        case .http(let u, let s, let d): return "\(u): HTTP \(s)\(d.isEmpty ? "" : ": \(d)")"
        case .transport(let u, let d): return "\(u): \(d)"
        case .integrity(let u, let d): return "\(u): integrity check failed: \(d)"
        case .io(let p, let d): return "\(p): \(d)"
        case .badLocation(let s, let r): return "storage location \(s): \(r)"
        }
    }

    /// True for a missing object.
    public var isNotFound: Bool { if case .notFound = self { return true }; return false }
}
