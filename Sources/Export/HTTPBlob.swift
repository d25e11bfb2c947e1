import ArrayIO
import CCurl
import Logging
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an HTTP(S) (or file://) transfer failed after its retries.
public struct HTTPBlobError: Error, Equatable, CustomStringConvertible {
    public var url: String
    public var message: String
    public var description: String { "\(url): \(message)" }
}

/// Small blocking blob client over libcurl: GET into memory or a file, PUT from memory or a
/// file, with retries, a progress log line per transfer and a size check against
/// Content-Length. Blocking: call it from a dedicated thread, never the cooperative pool.
public struct HTTPBlob: Sendable {
    public var retries: Int
    public var timeoutSeconds: Int
    public var logger: Logger?

    public init(retries: Int = 3, timeoutSeconds: Int = 600, logger: Logger? = nil) {
        self.retries = max(0, retries)
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
    }

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    /// Transfer state shared with the C callbacks through an opaque pointer.
    private final class Transfer {
        var received: [UInt8] = []
        var fd: Int32 = -1
        var writeFailed = false
        var upload: UnsafeRawBufferPointer?
        var uploadFD: Int32 = -1
        var uploadOffset = 0
    }

    private static let writeCallback: swift_curl_data_cb = { data, size, count, opaque in
        guard let data, let opaque else { return 0 }
        let t = Unmanaged<Transfer>.fromOpaque(opaque).takeUnretainedValue()
        let n = size * count
        if t.fd >= 0 {
            var done = 0
            while done < n {
                let w = write(t.fd, data + done, n - done)
                if w < 0 { if errno == EINTR { continue }; t.writeFailed = true; return 0 }
                done += w
            }
        } else {
            data.withMemoryRebound(to: UInt8.self, capacity: n) { t.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
        }
        return n
    }

    private static let readCallback: swift_curl_data_cb = { data, size, count, opaque in
        guard let data, let opaque else { return 0 }
        let t = Unmanaged<Transfer>.fromOpaque(opaque).takeUnretainedValue()
        let cap = size * count
        if t.uploadFD >= 0 {
            let r = read(t.uploadFD, data, cap)
            return r < 0 ? Int(CURL_READFUNC_ABORT) : r
        }
        guard let src = t.upload, let base = src.baseAddress else { return 0 }
        let n = min(cap, src.count - t.uploadOffset)
        if n > 0 { UnsafeMutableRawPointer(data).copyMemory(from: base + t.uploadOffset, byteCount: n) }
        t.uploadOffset += n
        return n
    }

    /// One attempt; returns nil on success or an error text (and whether to retry).
    private func perform(_ url: String, transfer: Transfer, upload size: Int?) -> (error: String, retry: Bool)? {
        guard HTTPBlob.globalInit, let h = curl_easy_init() else { return ("libcurl init failed", false) }
        defer { curl_easy_cleanup(h) }
        var errbuf = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let opaque = Unmanaged.passUnretained(transfer).toOpaque()
        let rc: CURLcode = errbuf.withUnsafeMutableBufferPointer { eb in
            _ = swift_curl_setopt_string(h, CURLOPT_URL, url)
            _ = swift_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
            _ = swift_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1)
            _ = swift_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            _ = swift_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 30)
            _ = swift_curl_setopt_long(h, CURLOPT_TIMEOUT, timeoutSeconds)
            if let size {
                _ = swift_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
                _ = swift_curl_setopt_readfn(h, HTTPBlob.readCallback)
                _ = swift_curl_setopt_ptr(h, CURLOPT_READDATA, opaque)
                _ = swift_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(size))
            }
            _ = swift_curl_setopt_writefn(h, HTTPBlob.writeCallback)
            _ = swift_curl_setopt_ptr(h, CURLOPT_WRITEDATA, opaque)
            return curl_easy_perform(h)
        }
        if transfer.writeFailed { return ("writing the download failed: \(FileIO.errnoText())", false) }
        guard rc == CURLE_OK else {
            let detail = String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
            // Missing files and bad URLs do not get better by retrying.
            let permanent: [CURLcode] = [CURLE_FILE_COULDNT_READ_FILE, CURLE_REMOTE_FILE_NOT_FOUND,
                                         CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_HTTP_RETURNED_ERROR]
            return ("\(text) (curl \(rc.rawValue))", !permanent.contains(rc))
        }
        var code = 0
        _ = swift_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &code)
        let isHTTP = url.hasPrefix("http://") || url.hasPrefix("https://")
        if isHTTP && !(200..<300).contains(code) {
            return ("HTTP status \(code)", code >= 500 || code == 429)
        }
        if size == nil {
            var expected: curl_off_t = -1
            _ = swift_curl_getinfo_off(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected)
            var got: curl_off_t = 0
            _ = swift_curl_getinfo_off(h, CURLINFO_SIZE_DOWNLOAD_T, &got)
            if expected >= 0 && got != expected { return ("size check failed: got \(got) of \(expected) bytes", true) }
        }
        return nil
    }

    private func withRetries(_ what: String, _ url: String, bytes: () -> Int,
                             _ attempt: () -> (error: String, retry: Bool)?) throws(HTTPBlobError) {
        var last = ""
        let start = timeNow()
        logger?.info("\(what) \(url) ...")
        for i in 0...retries {
            guard let failure = attempt() else {
                let secs = timeNow() - start
                let n = bytes()
                logger?.info("\(what) \(url): \(n) bytes in \(String(format2: secs)) s (\(String(format2: Double(n) / max(secs, 1e-6) / 1e6)) MB/s)")
                return
            }
            last = failure.error
            logger?.warning("\(what) \(url) attempt \(i + 1) failed: \(failure.error)")
            if !failure.retry { break }
            if i < retries { usleep(UInt32(min(5_000_000, 200_000 << i))) }
        }
        throw HTTPBlobError(url: url, message: last)
    }

    /// GETs `url` into memory.
    public func get(_ url: String) throws(HTTPBlobError) -> [UInt8] {
        var result: [UInt8] = []
        try withRetries("GET", url, bytes: { result.count }) {
            let t = Transfer()
            if let e = perform(url, transfer: t, upload: nil) { return e }
            result = t.received
            return nil
        }
        return result
    }

    /// GETs `url` into the file `path` (created or truncated).
    public func download(_ url: String, to path: String) throws(HTTPBlobError) {
        try withRetries("GET", url, bytes: { FileIO.size(path) ?? 0 }) {
            let t = Transfer()
            t.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard t.fd >= 0 else { return ("cannot create \(path): \(FileIO.errnoText())", false) }
            defer { close(t.fd) }
            return perform(url, transfer: t, upload: nil)
        }
    }

    /// PUTs `bytes` to `url`.
    public func put(_ url: String, bytes: [UInt8]) throws(HTTPBlobError) {
        try withRetries("PUT", url, bytes: { bytes.count }) {
            bytes.withUnsafeBytes { raw in
                let t = Transfer()
                t.upload = raw
                return perform(url, transfer: t, upload: raw.count)
            }
        }
    }

    /// PUTs the file `path` to `url` (streamed).
    public func upload(file path: String, to url: String) throws(HTTPBlobError) {
        guard let size = FileIO.size(path) else { throw HTTPBlobError(url: url, message: "cannot stat \(path)") }
        try withRetries("PUT", url, bytes: { size }) {
            let t = Transfer()
            t.uploadFD = open(path, O_RDONLY)
            guard t.uploadFD >= 0 else { return ("cannot open \(path): \(FileIO.errnoText())", false) }
            defer { close(t.uploadFD) }
            return perform(url, transfer: t, upload: size)
        }
    }
}

func timeNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

extension String {
    /// A number with 2 decimals (no Foundation formatting needed).
    init(format2 v: Double) {
        let r = (v * 100).rounded() / 100
        self = String(r)
    }
}
