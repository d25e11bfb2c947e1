#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Element types this project stores in `.npy` files.
public enum NpyDType: String, Sendable, Equatable {
    case float32 = "<f4"
    case int64 = "<i8"

    public var byteSize: Int { self == .float32 ? 4 : 8 }
}

/// The parsed header of an `.npy` file.
public struct NpyHeader: Sendable, Equatable {
    public var dtype: NpyDType
    public var shape: [Int]
    /// Byte offset of the first element (a multiple of 64 for files this project writes).
    public var dataOffset: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Why an `.npy` file could not be read or written.
public struct NpyError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// NumPy `.npy` files: read format 1.0/2.0 (`<f4`, `<i8`, any shape, C order), write 1.0 with
/// the data at a multiple of 64 bytes. A path ending in `.gz` is gzip-compressed.
public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: header

    /// The format 1.0 header (magic .. newline) for `dtype`/`shape`, padded to 64 bytes.
    public static func header(dtype: NpyDType, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        let total = (unpadded + 63) / 64 * 64
        dict += String(repeating: " ", count: total - unpadded) + "\n"
        let len = dict.utf8.count
        return magic + [1, 0, UInt8(len & 0xff), UInt8(len >> 8)] + Array(dict.utf8)
    }

    /// Parses the header at the start of `bytes` (which may be just a prefix of the file).
    public static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(NpyError) -> NpyHeader {
        func fail(_ m: String) -> NpyError { NpyError(path: path, message: m) }
        guard bytes.count >= 10 else { throw fail("truncated header (\(bytes.count) bytes)") }
        for i in 0..<6 where bytes[i] != magic[i] { throw fail("not an .npy file (bad magic)") }
        let major = bytes[6]
        let headerLen: Int, start: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw fail("unsupported .npy format version \(major).\(bytes[7])")
        }
        guard bytes.count >= start + headerLen else {
            throw fail("truncated header (needs \(start + headerLen) bytes, have \(bytes.count))")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + headerLen)]), as: UTF8.self)
        guard let descr = dictValue(text, key: "descr") else { throw fail("header has no 'descr'") }
        let d = descr.trimmingQuotes()
        let dtype: NpyDType
        switch d {
        case "<f4": dtype = .float32
        case "<i8": dtype = .int64
        default: throw fail("unsupported dtype \(d) (need <f4 or <i8)")
        }
        guard let fo = dictValue(text, key: "fortran_order") else { throw fail("header has no 'fortran_order'") }
        guard fo == "False" else { throw fail("fortran_order arrays are not supported") }
        guard let shapeText = dictValue(text, key: "shape"), shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
            throw fail("header has no valid 'shape'")
        }
        var shape: [Int] = []
        for part in shapeText.dropFirst().dropLast().split(separator: ",") {
            let t = part.filter { $0 != " " && $0 != "L" }
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw fail("bad shape \(shapeText)") }
            shape.append(v)
        }
        var count = 1
        for v in shape {
            let (m, o) = count.multipliedReportingOverflow(by: v)
            guard !o, m < (1 << 40) else { throw fail("shape \(shape) is too large") }
            count = m
        }
        return NpyHeader(dtype: dtype, shape: shape, dataOffset: start + headerLen)
    }

    /// Value text for `'key': value` in a Python dict literal (value ends at the matching
    /// `,` outside parentheses, or at `}`).
    private static func dictValue(_ text: String, key: String) -> String? {
        guard let r = text.range(of: "'\(key)'") else { return nil }
        var i = r.upperBound
        while i < text.endIndex, text[i] == " " || text[i] == ":" { i = text.index(after: i) }
        var depth = 0
        var out = ""
        while i < text.endIndex {
            let c = text[i]
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if depth == 0 && (c == "," || c == "}") { break }
            out.append(c)
            if depth == 0 && c == ")" { break }
            i = text.index(after: i)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    // MARK: encode / decode in memory

    /// Whole `.npy` file bytes for `floats` with `shape`.
    public static func encode(floats: UnsafeBufferPointer<Float>, shape: [Int]) -> [UInt8] {
        var out = header(dtype: .float32, shape: shape)
        out.append(contentsOf: UnsafeRawBufferPointer(floats))
        return out
    }

    public static func encode(int64s: UnsafeBufferPointer<Int64>, shape: [Int]) -> [UInt8] {
        var out = header(dtype: .int64, shape: shape)
        out.append(contentsOf: UnsafeRawBufferPointer(int64s))
        return out
    }

    /// Header + a view of the data of an in-memory file, checking dtype and size.
    static func checkedData(_ bytes: UnsafeRawBufferPointer, dtype: NpyDType, path: String) throws(NpyError) -> (NpyHeader, UnsafeRawBufferPointer) {
        let h = try parseHeader(bytes, path: path)
        guard h.dtype == dtype else {
            throw NpyError(path: path, message: "dtype \(h.dtype.rawValue), expected \(dtype.rawValue)")
        }
        let need = h.elementCount * dtype.byteSize
        let have = bytes.count - h.dataOffset
        if have < need { throw NpyError(path: path, message: "truncated data: shape \(h.shape) needs \(need) bytes, file has \(have)") }
        if have > need { throw NpyError(path: path, message: "\(have - need) trailing bytes after the data of shape \(h.shape)") }
        return (h, UnsafeRawBufferPointer(rebasing: bytes[h.dataOffset..<(h.dataOffset + need)]))
    }

    public static func decodeFloats(_ bytes: UnsafeRawBufferPointer, path: String = "<memory>") throws(NpyError) -> (shape: [Int], values: [Float]) {
        let (h, data) = try checkedData(bytes, dtype: .float32, path: path)
        var values = [Float](repeating: 0, count: h.elementCount)
        values.withUnsafeMutableBytes { $0.copyMemory(from: data) }
        return (h.shape, values)
    }

    public static func decodeInt64s(_ bytes: UnsafeRawBufferPointer, path: String = "<memory>") throws(NpyError) -> (shape: [Int], values: [Int64]) {
        let (h, data) = try checkedData(bytes, dtype: .int64, path: path)
        var values = [Int64](repeating: 0, count: h.elementCount)
        values.withUnsafeMutableBytes { $0.copyMemory(from: data) }
        return (h.shape, values)
    }

    // MARK: files

    /// File bytes, gunzipped when the path ends in `.gz`.
    static func fileBytes(_ path: String) throws(NpyError) -> [UInt8] {
        let raw: [UInt8]
        do { raw = try FileIO.readAll(path) } catch { throw NpyError(path: path, message: error.message) }
        guard path.hasSuffix(".gz") else { return raw }
        do { return try Gzip.decompress(raw) } catch { throw NpyError(path: path, message: error.description) }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(NpyError) {
        var out = bytes
        if path.hasSuffix(".gz") {
            do { out = try Gzip.compress(bytes) } catch { throw NpyError(path: path, message: error.description) }
        }
        do { try FileIO.writeAll(path, out) } catch { throw NpyError(path: path, message: error.message) }
    }

    /// Writes a `<f4` array (gzip when `path` ends in `.gz`).
    public static func write(_ values: [Float], shape: [Int], to path: String) throws(NpyError) {
        guard shape.reduce(1, *) == values.count else {
            throw NpyError(path: path, message: "shape \(shape) does not match \(values.count) values")
        }
        if path.hasSuffix(".gz") {
            try writeFile(path, values.withUnsafeBufferPointer { encode(floats: $0, shape: shape) })
            return
        }
        // Uncompressed: header + data straight from the array, no extra copy.
        let h = header(dtype: .float32, shape: shape)
        var failure: NpyError?
        h.withUnsafeBytes { hb in
            values.withUnsafeBytes { vb in
                do throws(FileIO.Failure) { try FileIO.writeAll(path, [hb, vb]) } catch {
                    failure = NpyError(path: path, message: error.message)
                }
            }
        }
        if let failure { throw failure }
    }

    /// Writes floats straight from memory (large tables).
    public static func write(floats: UnsafeBufferPointer<Float>, shape: [Int], to path: String) throws(NpyError) {
        guard shape.reduce(1, *) == floats.count else {
            throw NpyError(path: path, message: "shape \(shape) does not match \(floats.count) values")
        }
        if path.hasSuffix(".gz") { try writeFile(path, encode(floats: floats, shape: shape)); return }
        let h = header(dtype: .float32, shape: shape)
        var failure: NpyError?
        h.withUnsafeBytes { hb in
            do throws(FileIO.Failure) { try FileIO.writeAll(path, [hb, UnsafeRawBufferPointer(floats)]) } catch {
                failure = NpyError(path: path, message: error.message)
            }
        }
        if let failure { throw failure }
    }

    /// Writes an `<i8` array (gzip when `path` ends in `.gz`).
    public static func write(_ values: [Int64], shape: [Int], to path: String) throws(NpyError) {
        guard shape.reduce(1, *) == values.count else {
            throw NpyError(path: path, message: "shape \(shape) does not match \(values.count) values")
        }
        try writeFile(path, values.withUnsafeBufferPointer { encode(int64s: $0, shape: shape) })
    }

    /// Header of a file (reads only the first bytes unless gzip-compressed).
    public static func readHeader(path: String) throws(NpyError) -> NpyHeader {
        if path.hasSuffix(".gz") {
            let b = try fileBytes(path)
            return try withRawBytes(b) { (r) throws(NpyError) -> NpyHeader in try parseHeader(r, path: path) }
        }
        let prefix: [UInt8]
        do { prefix = try FileIO.readPrefix(path, maxBytes: 65_536) } catch { throw NpyError(path: path, message: error.message) }
        return try withRawBytes(prefix) { (r) throws(NpyError) -> NpyHeader in try parseHeader(r, path: path) }
    }

    public static func readFloats(path: String) throws(NpyError) -> (shape: [Int], values: [Float]) {
        let b = try fileBytes(path)
        return try withRawBytes(b) { (r) throws(NpyError) -> (shape: [Int], values: [Float]) in try decodeFloats(r, path: path) }
    }

    public static func readInt64s(path: String) throws(NpyError) -> (shape: [Int], values: [Int64]) {
        let b = try fileBytes(path)
        return try withRawBytes(b) { (r) throws(NpyError) -> (shape: [Int], values: [Int64]) in try decodeInt64s(r, path: path) }
    }

    /// A `<f4` file as a ``FloatBuffer``: an uncompressed file is memory-mapped privately
    /// (`MAP_PRIVATE`, read-write: later writes go to private copy-on-write pages, never to
    /// the file); a `.gz` file is decompressed into heap memory.
    public static func loadFloatBuffer(path: String, map: Bool = true) throws(NpyError) -> (shape: [Int], buffer: FloatBuffer) {
        if path.hasSuffix(".gz") {
            let b = try fileBytes(path)
            return try withRawBytes(b) { (r) throws(NpyError) -> (shape: [Int], buffer: FloatBuffer) in
                let (h, data) = try checkedData(r, dtype: .float32, path: path)
                return (h.shape, FloatBuffer(copying: data.assumingMemoryBound(to: Float.self)))
            }
        }
        let h = try readHeader(path: path)
        guard h.dtype == .float32 else { throw NpyError(path: path, message: "dtype \(h.dtype.rawValue), expected <f4") }
        guard h.dataOffset % 4 == 0 else { throw NpyError(path: path, message: "data offset \(h.dataOffset) is not float-aligned") }
        let need = h.elementCount * 4
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw NpyError(path: path, message: "cannot open: \(FileIO.errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw NpyError(path: path, message: "cannot stat: \(FileIO.errnoText())") }
        let size = Int(st.st_size)
        if size - h.dataOffset < need { throw NpyError(path: path, message: "truncated data: shape \(h.shape) needs \(need) bytes, file has \(size - h.dataOffset)") }
        if size - h.dataOffset > need { throw NpyError(path: path, message: "\(size - h.dataOffset - need) trailing bytes after the data of shape \(h.shape)") }
        if need == 0 { return (h.shape, FloatBuffer(zeroed: 0)) }
        if !map {
            // One read straight into the final heap buffer (no intermediate copies).
            let buf = FloatBuffer(uninitializedCount: h.elementCount)
            var done = 0
            while done < need {
                let n = pread(fd, UnsafeMutableRawPointer(buf.pointer) + done, need - done, off_t(h.dataOffset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw NpyError(path: path, message: "read failed at byte \(h.dataOffset + done): \(FileIO.errnoText())") }
                done += n
            }
            return (h.shape, buf)
        }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw NpyError(path: path, message: "mmap failed: \(FileIO.errnoText())")
        }
        let data = (base + h.dataOffset).assumingMemoryBound(to: Float.self)
        return (h.shape, FloatBuffer(mappedBase: base, length: size, data: data, count: h.elementCount))
    }
}

extension String {
    func trimmingQuotes() -> String {
        var s = Substring(self)
        while s.first == "'" || s.first == "\"" { s = s.dropFirst() }
        while s.last == "'" || s.last == "\"" { s = s.dropLast() }
        return String(s)
    }
}
