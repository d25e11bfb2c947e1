import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over one kept-alive TCP connection (benchmark polling
/// loops: no allocation beyond the response body, no framework latency in the measurement).
final class BenchHTTPClient {
    let host: String
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    /// `url`: `http://HOST:PORT` (a trailing path is ignored).
    init(url: String) throws {
        guard url.hasPrefix("http://") else { throw BenchError("\(url): only http:// URLs") }
        let rest = url.dropFirst("http://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let parts = rest.split(separator: ":")
        guard parts.count == 2, let p = Int(parts[1]), p > 0 else { throw BenchError("\(url): need http://HOST:PORT") }
        host = parts[0] == "0.0.0.0" ? "127.0.0.1" : String(parts[0])
        port = p
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connectSocket() throws {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else {
            throw BenchError("cannot resolve \(host):\(port)")
        }
        defer { freeaddrinfo(res) }
        let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard s >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        guard connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let e = String(cString: strerror(errno))
            close(s)
            throw BenchError("connect \(host):\(port): \(e)")
        }
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        fd = s
        buffer.removeAll(keepingCapacity: true)
    }

    /// Sends one request and returns (status, body). Reconnects once if the connection dropped.
    func request(method: String, path: String, contentType: String? = nil, body: [UInt8] = []) throws -> (status: Int, body: [UInt8]) {
        for attempt in 0..<2 {
            if fd < 0 { try connectSocket() }
            do {
                return try exchange(method: method, path: path, contentType: contentType, body: body)
            } catch {
                close(fd)
                fd = -1
                if attempt == 1 { throw error }
            }
        }
        throw BenchError("unreachable")
    }

    private func exchange(method: String, path: String, contentType: String?, body: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "\r\n"
        try sendAll(Array(head.utf8) + body)
        // headers
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = find([13, 10, 13, 10])
            if headerEnd == nil { try fill() }
        }
        guard let he = headerEnd else { throw BenchError("no header") }
        let headerText = String(decoding: buffer[0..<he], as: UTF8.self)
        buffer.removeFirst(he + 4)
        let lines = headerText.split(separator: "\r\n")
        guard let first = lines.first, first.split(separator: " ").count >= 2,
              let status = Int(first.split(separator: " ")[1]) else { throw BenchError("bad status line: \(headerText.prefix(80))") }
        var length: Int?
        var chunked = false
        for l in lines.dropFirst() {
            let kv = l.split(separator: ":", maxSplits: 1)
            guard kv.count == 2 else { continue }
            let k = kv[0].lowercased(), v = kv[1].trimmingCharacters(in: .whitespaces)
            if k == "content-length" { length = Int(v) }
            if k == "transfer-encoding" && v.lowercased().contains("chunked") { chunked = true }
        }
        if chunked {
            var out: [UInt8] = []
            while true {
                var lineEnd = find([13, 10])
                while lineEnd == nil { try fill(); lineEnd = find([13, 10]) }
                guard let le = lineEnd, let size = Int(String(decoding: buffer[0..<le], as: UTF8.self).split(separator: ";")[0], radix: 16) else {
                    throw BenchError("bad chunk header")
                }
                buffer.removeFirst(le + 2)
                while buffer.count < size + 2 { try fill() }
                out += buffer[0..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { return (status, out) }
            }
        }
        let n = length ?? 0
        while buffer.count < n { try fill() }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return (status, out)
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] {
            var ok = true
            for j in 1..<pattern.count where buffer[i + j] != pattern[j] { ok = false; break }
            if ok { return i }
        }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw BenchError("connection closed by \(host):\(port)") }
        buffer += chunk[0..<n]
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return send(fd, base + off, raw.count - off, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw BenchError("send to \(host):\(port): \(String(cString: strerror(errno)))") }
            off += n
        }
    }
}
