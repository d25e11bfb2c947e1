import CZlib
import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// S3's `CRC32` object checksum (zlib's CRC-32, sent big-endian in base64 as
/// `x-amz-checksum-crc32`): of a byte range of a file for one part or object, and the composite
/// checksum S3 reports for a multipart object (the CRC-32 of the parts' raw CRCs, then `-<parts>`).
enum CRC32Checksum {
    /// Bytes read at a time while checksumming a file range.
    static let chunk = 1 << 20

    /// CRC-32 of `length` bytes of `fd` from `offset`; `path` names the file in errors.
    static func of(fd: Int32, offset: Int, length: Int, path: String) throws(StorageError) -> UInt32 {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: min(chunk, max(length, 1)), alignment: 64)
        defer { buffer.deallocate() }
        var crc = crc32_z(0, nil, 0)
        var done = 0
        while done < length {
            let want = min(chunk, length - done)
            let got = pread(fd, buffer, want, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw .io(path: path, detail: "cannot read bytes \(offset + done)..<\(offset + length) to checksum them: "
                          + (got == 0 ? "the file ended early" : LocalStore.errnoText()))
            }
            crc = crc32_z(crc, buffer.assumingMemoryBound(to: UInt8.self), got)
            done += got
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// CRC-32 of a byte array.
    static func of(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: crc32_z(0, $0.baseAddress, $0.count)) }
    }

    /// The four big-endian bytes of `crc`.
    static func bigEndianBytes(_ crc: UInt32) -> [UInt8] {
        [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
    }

    /// The header/XML form of `crc`: base64 of its big-endian bytes.
    static func text(_ crc: UInt32) -> String { Data(bigEndianBytes(crc)).base64EncodedString() }

    /// S3's checksum of a multipart object uploaded with these part CRCs: `<base64>-<parts>`.
    static func composite(_ parts: [UInt32]) -> String {
        text(of(parts.flatMap(bigEndianBytes))) + "-\(parts.count)"
    }
}
