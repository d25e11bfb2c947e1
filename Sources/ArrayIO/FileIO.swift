#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes over POSIX calls, with errors naming the path.
package enum FileIO {
    package struct Failure: Error {
        package let path: String
        package let message: String
    }

    package static func errnoText() -> String { String(cString: strerror(errno)) }

    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    package static func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    package static func readAll(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(path: path, message: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(path: path, message: "cannot stat: \(errnoText())") }
        // st_size is a hint only (0 for /proc files): read until end of file.
        var out = [UInt8](repeating: 0, count: max(Int(st.st_size), 4096))
        var done = 0
        var failure: String?
        while failure == nil {
            if done == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return read(fd, base + done, raw.count - done)
            }
            if n < 0 { if errno == EINTR { continue }; failure = errnoText(); break }
            if n == 0 { break }
            done += n
        }
        if let failure { throw Failure(path: path, message: "read failed: \(failure)") }
        out.removeSubrange(done...)
        return out
    }

    /// Reads up to `maxBytes` from the start of the file.
    package static func readPrefix(_ path: String, maxBytes: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(path: path, message: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: maxBytes)
        var done = 0
        out.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            while done < maxBytes {
                let n = read(fd, base + done, maxBytes - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
        }
        out.removeSubrange(done...)
        return out
    }

    /// Writes `parts` one after another to `path` (created or truncated).
    package static func writeAll(_ path: String, _ parts: [UnsafeRawBufferPointer]) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(path: path, message: "cannot create: \(errnoText())") }
        defer { close(fd) }
        for part in parts {
            guard let base = part.baseAddress else { continue }
            var done = 0
            while done < part.count {
                let n = write(fd, base + done, part.count - done)
                if n < 0 { if errno == EINTR { continue }; throw Failure(path: path, message: "write failed: \(errnoText())") }
                done += n
            }
        }
    }

    package static func writeAll(_ path: String, _ bytes: [UInt8]) throws(Failure) {
        var failure: Failure?
        bytes.withUnsafeBytes { raw in
            do throws(Failure) { try writeAll(path, [raw]) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    package static func writeText(_ path: String, _ text: String) throws(Failure) {
        try writeAll(path, Array(text.utf8))
    }

    package static func readText(_ path: String) throws(Failure) -> String {
        let b = try readAll(path)
        return String(decoding: b, as: UTF8.self)
    }

    /// mkdir -p.
    package static func makeDirectories(_ path: String) throws(Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        for comp in path.split(separator: "/") {
            current += "/" + comp
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Failure(path: current, message: "cannot create directory: \(errnoText())")
            }
        }
    }

    package static func listDirectory(_ path: String) throws(Failure) -> [String] {
        guard let d = opendir(path) else { throw Failure(path: path, message: "cannot list: \(errnoText())") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
