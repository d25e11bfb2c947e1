import CZlib

/// gzip (RFC 1952) bodies for `Content-Encoding: gzip` requests and responses, via zlib.
enum GzipCodec {
    /// Why a gzip body could not be inflated.
    enum Failure: Error, Equatable, CustomStringConvertible {
        case corrupt(String)
        case tooLarge(limit: Int)

        var description: String {
            switch self {
            case .corrupt(let why): return "gzip body is corrupt: \(why)"
            case .tooLarge(let limit): return "gzip body inflates beyond the \(limit)-byte limit"
            }
        }
    }

    /// Inflate a gzip stream; stops with `.tooLarge` once the output passes `limit` bytes.
    static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard swift_inflateInit2(&stream, 31) == Z_OK else { throw .corrupt("inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(input.count * 4, 256)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var failure: Failure?
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    let produced = outBuf.count - Int(stream.avail_out)
                    if output.count + produced > limit {
                        failure = .tooLarge(limit: limit)
                    } else {
                        output.append(contentsOf: outBuf[0..<produced])
                    }
                }
                if failure != nil { return }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    failure = .corrupt("truncated stream"); return
                }
                if status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR {
                    let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    failure = .corrupt(msg); return
                }
            } while status != Z_STREAM_END
            if stream.avail_in != 0 { failure = .corrupt("trailing bytes after the gzip stream") }
        }
        if let failure { throw failure }
        return output
    }

    /// Deflate into a gzip stream (level 1..9; 6 is zlib's default trade-off).
    static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        guard swift_deflateInit2(&stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var written = 0
        input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                _ = deflate(&stream, Z_FINISH)
                written = outBuf.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }
}
