import CZlib

/// Why gzip data could not be (de)compressed.
public struct GzipError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "gzip: \(message)" }
}

/// gzip (RFC 1952) compression and decompression over zlib.
public enum Gzip {
    /// gzip-compresses `input` (level 6).
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 6) throws(GzipError) -> [UInt8] {
        var s = z_stream()
        guard swift_deflateInit2(&s, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw GzipError(message: "deflateInit2 failed")
        }
        defer { deflateEnd(&s) }
        let bound = Int(deflateBound(&s, uLong(input.count))) + 64
        var out = [UInt8](repeating: 0, count: bound)
        var rc: Int32 = Z_OK
        var produced = 0
        out.withUnsafeMutableBytes { o in
            s.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            s.avail_in = uInt(input.count)
            s.next_out = o.baseAddress?.assumingMemoryBound(to: Bytef.self)
            s.avail_out = uInt(o.count)
            rc = deflate(&s, Z_FINISH)
            produced = o.count - Int(s.avail_out)
        }
        guard rc == Z_STREAM_END else { throw GzipError(message: "deflate failed (\(rc))") }
        out.removeSubrange(produced...)
        return out
    }

    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(GzipError) -> [UInt8] {
        var result: Result<[UInt8], GzipError> = .success([])
        input.withUnsafeBytes { raw in
            do throws(GzipError) { result = .success(try compress(raw, level: level)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Decompresses gzip (or zlib) data; fails on corrupt or truncated input.
    public static func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int = Int.max) throws(GzipError) -> [UInt8] {
        var s = z_stream()
        guard swift_inflateInit2(&s, 47) == Z_OK else { throw GzipError(message: "inflateInit2 failed") }
        defer { inflateEnd(&s) }
        // The gzip trailer holds the size mod 2^32: a good first capacity.
        var capacity = max(input.count * 2, 1024)
        if input.count >= 18 {
            let t = input.count - 4
            let le = Int(input[t]) | Int(input[t + 1]) << 8 | Int(input[t + 2]) << 16 | Int(input[t + 3]) << 24
            // deflate cannot expand more than ~1032:1: never trust a larger (corrupt) size hint.
            if le > 0 && le <= input.count * 1100 { capacity = max(capacity, le + 1) }
        }
        var out = [UInt8](repeating: 0, count: maxOutput < capacity ? maxOutput + 1 : capacity)
        s.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        s.avail_in = uInt(input.count)
        var produced = 0
        while true {
            if produced == out.count {
                if out.count > maxOutput { throw GzipError(message: "output exceeds \(maxOutput) bytes") }
                out.append(contentsOf: repeatElement(0, count: out.count))
            }
            var rc: Int32 = Z_OK
            out.withUnsafeMutableBytes { o in
                s.next_out = o.baseAddress.map { ($0 + produced).assumingMemoryBound(to: Bytef.self) }
                let avail = min(o.count - produced, Int(UInt32.max))
                s.avail_out = uInt(avail)
                rc = inflate(&s, Z_NO_FLUSH)
                produced += avail - Int(s.avail_out)
            }
            if rc == Z_STREAM_END { break }
            if rc == Z_BUF_ERROR && s.avail_in == 0 { throw GzipError(message: "truncated input") }
            if rc != Z_OK && rc != Z_BUF_ERROR { throw GzipError(message: "corrupt data (zlib \(rc))") }
        }
        if s.avail_in != 0 { throw GzipError(message: "\(s.avail_in) trailing bytes after the gzip stream") }
        out.removeSubrange(produced...)
        return out
    }

    public static func decompress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        var result: Result<[UInt8], GzipError> = .success([])
        input.withUnsafeBytes { raw in
            do throws(GzipError) { result = .success(try decompress(raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}
