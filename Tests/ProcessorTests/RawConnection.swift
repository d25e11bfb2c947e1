import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One raw TCP connection to a test server, for what HTTPClient cannot do: send a request in
/// pieces, hold a connection idle, read with a deadline. Blocking; used from a detached thread.
final class RawConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = try HTTPClient.connectLoopback(port: port)
    }

    /// Sends `text`; false when the server already closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Everything received until the server closes or `seconds` pass (or, with `until`, until the
    /// received text contains it); `closed` tells whether the server closed.
    func read(seconds: Double, until: String? = nil) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { (c: CheckedContinuation<(text: String, closed: Bool), Never>) in
            let thread = Thread { c.resume(returning: self.readBlocking(seconds: seconds, until: until)) }
            thread.start()
        }
    }

    private func readBlocking(seconds: Double, until: String?) -> (text: String, closed: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return (String(decoding: data, as: UTF8.self), false) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, left * 1000)))
            if ready <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (String(decoding: data, as: UTF8.self), true) }
            data.append(contentsOf: buffer[0..<n])
            if let until, String(decoding: data, as: UTF8.self).contains(until) {
                return (String(decoding: data, as: UTF8.self), false)
            }
        }
    }

    deinit { close(fd) }
}
