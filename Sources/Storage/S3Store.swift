import Foundation
import Logging

/// An S3-compatible bucket (AWS S3, Alibaba OSS, MinIO, moto) as an ``ObjectStore``. `s3://`
/// URLs use path-style addressing (`endpoint/bucket/key`), `oss://` virtual-hosted style
/// (`bucket.endpoint/key`), as each service expects. Retries 5xx, 429 and transport failures
/// with exponential backoff; 401/403/404 fail at once naming bucket and key.
public struct S3Store: ObjectStore {
    public let scheme: String
    public let bucket: String
    let settings: StorageSettings
    /// `scheme://host[:port]` with the bucket in the host for virtual-hosted style.
    let base: String
    let pathStyle: Bool
    static let logger = Logger(label: "odl.storage")

    public init(scheme: String, bucket: String, settings: StorageSettings) throws(StorageError) {
        self.scheme = scheme
        self.bucket = bucket
        self.settings = settings
        guard var endpoint = settings.endpoint, !endpoint.isEmpty else {
            throw .badLocation("\(scheme)://\(bucket)", reason: "no endpoint: set --oss-endpoint or ODL_OSS_ENDPOINT")
        }
        guard settings.accessKey != nil, settings.secretKey != nil else {
            throw .badLocation("\(scheme)://\(bucket)", reason: "no credentials: set --oss-ak/--oss-sk or ODL_OSS_AK/ODL_OSS_SK")
        }
        if !endpoint.hasPrefix("http://") && !endpoint.hasPrefix("https://") { endpoint = "https://" + endpoint }
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        pathStyle = scheme == "s3"
        if pathStyle {
            base = endpoint + "/" + bucket
        } else {
            guard let split = endpoint.range(of: "://")?.upperBound else {
                throw .badLocation(endpoint, reason: "endpoint must be host[:port] or http(s)://host[:port]")
            }
            base = String(endpoint[..<split]) + bucket + "." + String(endpoint[split...])
        }
    }

    public func url(_ key: String) -> String { "\(scheme)://\(bucket)/\(key)" }

    /// RFC 3986 percent-encoding (unreserved characters kept; `/` kept when `keepSlash`).
    static func encode(_ s: String, keepSlash: Bool) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if (b < 0x80 && (c.isLetter || c.isNumber)) || c == "-" || c == "_" || c == "." || c == "~" || (keepSlash && c == "/") {
                out.append(c)
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// The request URL; `query` must be given sorted by name (SigV4's canonical order).
    func requestURL(_ key: String, query: [(String, String)] = []) -> String {
        var u = base + "/" + Self.encode(key, keepSlash: true)
        if !query.isEmpty { u += "?" + query.map { Self.encode($0.0, keepSlash: false) + "=" + Self.encode($0.1, keepSlash: false) }.joined(separator: "&") }
        return u
    }

    /// Runs `exchange` with retries; returns a 2xx response or throws the classified error.
    func run(_ exchange: S3Exchange, key: String, notFoundIsError: Bool = true) throws(StorageError) -> S3Exchange.Response? {
        let target = url(key)
        var last: StorageError = .transport(url: target, detail: "no attempt")
        for attempt in 0...settings.retries {
            if attempt > 0 {
                let delay = min(5.0, 0.2 * Double(1 << min(attempt - 1, 5))) * Double.random(in: 0.8...1.2)
                Self.logger.warning("\(exchange.method) \(target) attempt \(attempt) failed (\(last)); retrying in \(String(format: "%.1f", delay)) s")
                usleep(UInt32(delay * 1e6))
            }
            switch exchange.perform(settings: settings) {
            case .failure(let f):
                last = .transport(url: target, detail: f.text + (attempt > 0 ? " after \(attempt + 1) attempts" : ""))
                if !f.retryable { throw last }
            case .success(let r):
                switch r.status {
                case 200..<300:
                    if exchange.method == "POST", r.body.count < 65536, String(decoding: r.body, as: UTF8.self).contains("<Error>") {
                        last = .http(url: target, status: r.status, detail: S3XML.errorText(r.body))
                        continue  // S3 may report a failed CompleteMultipartUpload inside a 200
                    }
                    return r
                case 404:
                    if !notFoundIsError { return nil }
                    throw .notFound(url: target, detail: "bucket \(bucket), key \(key)" + (r.body.isEmpty ? "" : ": " + S3XML.errorText(r.body)))
                case 401, 403:
                    throw .accessDenied(url: target, detail: "HTTP \(r.status) for bucket \(bucket), key \(key)" + (r.body.isEmpty ? "" : ": " + S3XML.errorText(r.body)))
                case 429, 500...:
                    last = .http(url: target, status: r.status, detail: S3XML.errorText(r.body) + " after \(attempt + 1) attempts")
                default:
                    throw .http(url: target, status: r.status, detail: S3XML.errorText(r.body))
                }
            }
        }
        throw last
    }

    public func read(_ key: String) throws(StorageError) -> [UInt8] {
        guard let r = try run(S3Exchange(method: "GET", url: requestURL(key)), key: key) else { return [] }
        if let len = r.headers["content-length"].flatMap(Int.init), len != r.body.count {
            throw .integrity(url: url(key), detail: "got \(r.body.count) of \(len) bytes")
        }
        return r.body
    }

    public func write(_ key: String, bytes: [UInt8]) throws(StorageError) {
        let crc = checksums ? CRC32Checksum.text(CRC32Checksum.of(bytes)) : nil
        let r = try run(S3Exchange(method: "PUT", url: requestURL(key), headers: Self.checksumHeader(crc), body: .bytes(bytes)), key: key)
        try verifyUploaded(key, r, size: bytes.count, crc32: crc)
    }

    /// Whether uploads to this store carry a CRC-32 (``StorageSettings/UploadChecksum``).
    var checksums: Bool { settings.checksum.applies(toScheme: scheme) }

    /// The request header carrying `crc32` (none when nil).
    static func checksumHeader(_ crc32: String?) -> [String] { crc32.map { ["x-amz-checksum-crc32: \($0)"] } ?? [] }

    /// After an upload: the service must have taken all `size` bytes and answered the stored
    /// object's ETag (S3 sends 200 + ETag only once the whole declared body is stored), so no
    /// extra HEAD round trip is needed. Returns that ETag.
    /// With `crc32` (the CRC-32 sent), a checksum the service echoes must equal it.
    @discardableResult
    func verifyUploaded(_ key: String, _ r: S3Exchange.Response?, size: Int, what: String = "upload", crc32: String? = nil) throws(StorageError) -> String {
        guard let r else { throw .integrity(url: url(key), detail: "\(what) got no response") }
        guard r.sent == size else { throw .integrity(url: url(key), detail: "\(what) sent \(r.sent) of \(size) bytes") }
        guard let etag = r.headers["etag"], !etag.isEmpty else {
            throw .integrity(url: url(key), detail: "\(what) answered HTTP \(r.status) without an ETag")
        }
        if let crc32, let echoed = r.headers["x-amz-checksum-crc32"], echoed != crc32 {
            throw .integrity(url: url(key), detail: "\(what): the store reports CRC-32 \(echoed), odl sent \(crc32)")
        }
        return etag
    }

    public func upload(file path: String, to key: String) throws(StorageError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, detail: "cannot open: \(LocalStore.errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, detail: "cannot stat: \(LocalStore.errnoText())") }
        let size = Int(st.st_size)
        let progress = TransferProgress(what: "upload", url: url(key), total: size)
        if size < settings.partSize {
            let crc = checksums ? CRC32Checksum.text(try CRC32Checksum.of(fd: fd, offset: 0, length: size, path: path)) : nil
            let r = try run(S3Exchange(method: "PUT", url: requestURL(key), headers: Self.checksumHeader(crc),
                                       body: .file(fd: fd, offset: 0, length: size)), key: key)
            try verifyUploaded(key, r, size: size, crc32: crc)
        } else {
            try multipartUpload(fd: fd, path: path, size: size, key: key, progress: progress)
        }
        progress.finish()
    }

    public func download(_ key: String, to path: String) throws(StorageError) {
        guard let info = try head(key) else { throw .notFound(url: url(key), detail: "bucket \(bucket), key \(key)") }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .io(path: path, detail: "cannot create: \(LocalStore.errnoText())") }
        defer { close(fd) }
        let progress = TransferProgress(what: "download", url: url(key), total: info.size)
        if info.size < settings.partSize {
            var headers: [String] = []
            if let etag = info.etag { headers.append("If-Match: \(etag)") }
            let r = try run(S3Exchange(method: "GET", url: requestURL(key), headers: headers, sink: .file(fd: fd, offset: 0)), key: key)
            guard let got = r?.received, got == info.size else {
                throw .integrity(url: url(key), detail: "got \(r?.received ?? 0) of \(info.size) bytes")
            }
        } else {
            try rangedDownload(fd: fd, info: info, key: key, progress: progress)
        }
        progress.finish()
    }

    public func list(prefix: String) throws(StorageError) -> [ObjectInfo] {
        var out: [ObjectInfo] = []
        var token: String?
        repeat {
            var query: [(String, String)] = []
            if let token { query.append(("continuation-token", token)) }
            query += [("list-type", "2"), ("prefix", prefix)]
            var u = base + "?" + query.map { Self.encode($0.0, keepSlash: false) + "=" + Self.encode($0.1, keepSlash: false) }.joined(separator: "&")
            if !pathStyle { u = base + "/?" + u.split(separator: "?", maxSplits: 1)[1] }
            guard let r = try run(S3Exchange(method: "GET", url: u), key: prefix) else { break }
            let page = S3XML.listPage(r.body)
            out += page.objects
            token = page.nextToken
        } while token != nil
        return out.sorted { $0.key < $1.key }
    }

    public func head(_ key: String) throws(StorageError) -> ObjectInfo? {
        // With checksums on, the stored CRC-32 comes too (S3 sends it only when asked).
        let ask = checksums ? ["x-amz-checksum-mode: ENABLED"] : []
        guard let r = try run(S3Exchange(method: "HEAD", url: requestURL(key), headers: ask), key: key, notFoundIsError: false) else { return nil }
        return ObjectInfo(key: key, size: r.headers["content-length"].flatMap(Int.init) ?? 0, etag: r.headers["etag"],
                          crc32: r.headers["x-amz-checksum-crc32"])
    }

    public func delete(_ key: String) throws(StorageError) {
        _ = try run(S3Exchange(method: "DELETE", url: requestURL(key)), key: key, notFoundIsError: false)
    }
}
