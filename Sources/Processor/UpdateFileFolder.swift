import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A local `incr_save_dir` read with plain POSIX calls: names by readdir, each file by
/// open/fstat/read into a caller's buffer that is reused from file to file (fs-mode replay
/// reads thousands of files; Foundation's file APIs allocate and copy each one twice).
struct UpdateFileFolder: Sendable {
    let path: String

    /// Why a name list or a file could not be read.
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var detail: String
        var description: String { "\(path): \(detail)" }
    }

    /// One file read into a buffer: its bytes are `buffer[0..<count]`.
    struct Read: Sendable {
        var count: Int
        /// Modification time, seconds since the epoch.
        var modified: Double
    }

    /// Every entry name in the folder but `.` and `..`, unsorted.
    func names() throws(Failure) -> [String] {
        guard let dir = opendir(path) else { throw Failure(path: path, detail: "cannot list: \(Self.errnoText())") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Read all of `name` into `buffer`, growing it when the file is bigger (never shrinking).
    /// A file shorter than its size at open (truncated while read) is a failure.
    func read(_ name: String, into buffer: inout [UInt8]) throws(Failure) -> Read {
        let file = path + "/" + name
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: file, detail: "cannot open: \(Self.errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(path: file, detail: "cannot stat: \(Self.errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw Failure(path: file, detail: "not a regular file") }
        let size = Int(st.st_size)
        if buffer.count < size {
            buffer = [UInt8](unsafeUninitializedCapacity: size) { _, initialized in initialized = size }
        }
        var done = 0
        let failure: String? = buffer.withUnsafeMutableBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }  // empty file, empty buffer
            while done < size {
                let n = Glibc.read(fd, base + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return "read failed after \(done) of \(size) bytes: \(Self.errnoText())"
                }
                if n == 0 { return "file ended after \(done) of \(size) bytes (truncated while read)" }
                done += n
            }
            return nil
        }
        if let failure { throw Failure(path: file, detail: failure) }
        let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return Read(count: size, modified: modified)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
