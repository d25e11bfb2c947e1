import Foundation
import CCurl
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One signed HTTP exchange with an S3-compatible endpoint over libcurl, signed by libcurl's
/// built-in AWS SigV4 (`CURLOPT_AWS_SIGV4`). The payload is declared `UNSIGNED-PAYLOAD` in
/// `x-amz-content-sha256` (libcurl 7.88 would otherwise hash only POSTFIELDS bodies).
struct S3Exchange {
    enum Body {
        case none
        case bytes([UInt8])
        /// `length` bytes of the open file `fd` from `offset`.
        case file(fd: Int32, offset: Int, length: Int)
    }

    enum Sink {
        case memory
        /// Received bytes go to `fd` at `offset` onward (pwrite).
        case file(fd: Int32, offset: Int)
    }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var received: Int
        /// Request body bytes libcurl read from the source (the whole body on a 2xx upload).
        var sent: Int
    }

    /// Outcome of one attempt that did not produce a response.
    struct TransportFailure: Error {
        var text: String
        var retryable: Bool
    }

    var method: String
    var url: String
    var headers: [String] = []
    var body: Body = .none
    var sink: Sink = .memory

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    /// State shared with the C callbacks through an opaque pointer (one attempt, one thread).
    private final class State {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        var received = 0
        var sinkFD: Int32 = -1
        var sinkOffset = 0
        var writeFailed = false
        var source: [UInt8] = []
        var sourceFD: Int32 = -1
        var sourceOffset = 0
        var sourceEnd = 0
    }

    private static let writeCallback: swift_curl_data_cb = { data, size, count, opaque in
        guard let data, let opaque else { return 0 }
        let s = Unmanaged<State>.fromOpaque(opaque).takeUnretainedValue()
        let n = size * count
        if s.sinkFD >= 0 {
            var done = 0
            while done < n {
                let w = pwrite(s.sinkFD, data + done, n - done, off_t(s.sinkOffset + s.received + done))
                if w < 0 { if errno == EINTR { continue }; s.writeFailed = true; return 0 }
                done += w
            }
        } else {
            data.withMemoryRebound(to: UInt8.self, capacity: n) { s.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
        }
        s.received += n
        return n
    }

    private static let readCallback: swift_curl_data_cb = { data, size, count, opaque in
        guard let data, let opaque else { return 0 }
        let s = Unmanaged<State>.fromOpaque(opaque).takeUnretainedValue()
        let n = min(size * count, s.sourceEnd - s.sourceOffset)
        guard n > 0 else { return 0 }
        if s.sourceFD >= 0 {
            let r = pread(s.sourceFD, data, n, off_t(s.sourceOffset))
            if r <= 0 { return Int(CURL_READFUNC_ABORT) }
            s.sourceOffset += r
            return r
        }
        s.source.withUnsafeBytes { raw in
            if let base = raw.baseAddress { UnsafeMutableRawPointer(data).copyMemory(from: base + s.sourceOffset, byteCount: n) }
        }
        s.sourceOffset += n
        return n
    }

    private static let headerCallback: swift_curl_data_cb = { data, size, count, opaque in
        guard let data, let opaque else { return 0 }
        let s = Unmanaged<State>.fromOpaque(opaque).takeUnretainedValue()
        let n = size * count
        let line = data.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
        if line.hasPrefix("HTTP/") { s.headers = [:] }  // a new response (after 100-continue)
        if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: [" ", "\t", "\r", "\n"])
            s.headers[name] = value
        }
        return n
    }

    /// Performs the exchange once, on a pooled handle (its connection kept alive for the next
    /// request) while holding one of the process's `settings.parallelism` request slots.
    func perform(settings: StorageSettings) -> Result<Response, TransportFailure> {
        guard S3Exchange.globalInit, let handle = CurlHandlePool.take() else { return .failure(.init(text: "libcurl init failed", retryable: false)) }
        let result = CurlHandlePool.withSlot(width: settings.parallelism) { perform(on: handle.raw, settings: settings) }
        CurlHandlePool.give(handle, broken: (try? result.get()) == nil)
        return result
    }

    private func perform(on h: UnsafeMutableRawPointer, settings: StorageSettings) -> Result<Response, TransportFailure> {
        let state = State()
        switch sink {
        case .memory: break
        case .file(let fd, let offset): state.sinkFD = fd; state.sinkOffset = offset
        }
        var uploadSize: Int?
        var sourceStart = 0
        switch body {
        case .none: break
        case .bytes(let b): state.source = b; state.sourceEnd = b.count; uploadSize = b.count
        case .file(let fd, let offset, let length):
            state.sourceFD = fd; state.sourceOffset = offset; state.sourceEnd = offset + length; uploadSize = length
            sourceStart = offset
        }
        var list: UnsafeMutablePointer<curl_slist>?
        // (No "Expect:" override: libcurl 7.88 would sign the empty header it then leaves out.)
        for header in headers + ["x-amz-content-sha256: UNSIGNED-PAYLOAD"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        var errbuf = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let opaque = Unmanaged.passUnretained(state).toOpaque()
        let userpwd = "\(settings.accessKey ?? ""):\(settings.secretKey ?? "")"
        let rc: CURLcode = errbuf.withUnsafeMutableBufferPointer { eb in
            _ = swift_curl_setopt_string(h, CURLOPT_URL, url)
            _ = swift_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
            _ = swift_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            _ = swift_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 10)
            _ = swift_curl_setopt_long(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 200)
            _ = swift_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = swift_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, settings.stallSeconds)
            _ = swift_curl_setopt_string(h, CURLOPT_AWS_SIGV4, "aws:amz:\(settings.region):s3")
            _ = swift_curl_setopt_string(h, CURLOPT_USERPWD, userpwd)
            _ = swift_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, list)
            switch method {
            case "GET": break
            case "HEAD": _ = swift_curl_setopt_long(h, CURLOPT_NOBODY, 1)
            case "PUT": _ = swift_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
            case "POST": _ = swift_curl_setopt_long(h, CURLOPT_POST, 1)
            default: _ = swift_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method)
            }
            if let size = uploadSize {
                _ = swift_curl_setopt_readfn(h, S3Exchange.readCallback)
                _ = swift_curl_setopt_ptr(h, CURLOPT_READDATA, opaque)
                if method == "POST" {
                    _ = swift_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size))
                } else {
                    _ = swift_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(size))
                }
            } else if method == "POST" {
                _ = swift_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, 0)
            }
            _ = swift_curl_setopt_writefn(h, S3Exchange.writeCallback)
            _ = swift_curl_setopt_ptr(h, CURLOPT_WRITEDATA, opaque)
            _ = swift_curl_setopt_headerfn(h, S3Exchange.headerCallback)
            _ = swift_curl_setopt_ptr(h, CURLOPT_HEADERDATA, opaque)
            return curl_easy_perform(h)
        }
        if state.writeFailed { return .failure(.init(text: "writing the download failed: \(LocalStore.errnoText())", retryable: false)) }
        guard rc == CURLE_OK else {
            let detail = String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
            let permanent: [CURLcode] = [CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN, CURLE_BAD_FUNCTION_ARGUMENT]
            return .failure(.init(text: "\(text) (curl \(rc.rawValue))", retryable: !permanent.contains(rc)))
        }
        var code = 0
        _ = swift_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &code)
        return .success(Response(status: code, headers: state.headers, body: state.body, received: state.received,
                                 sent: state.sourceOffset - sourceStart))
    }
}
