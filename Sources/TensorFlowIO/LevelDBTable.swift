/// A LevelDB-format sorted string table (TensorFlow's `.index` files): footer with magic,
/// index block, data blocks with restart points and prefix-shared keys, and a masked CRC32C
/// trailer on every block, all verified. Reads the whole table into `entries` in key order.
public struct LevelDBTable: Sendable {
    /// LevelDB's table magic number (`kTableMagicNumber`).
    static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    static let footerLength = 48
    static let blockTrailerLength = 5

    /// Every (key, value) of the table, in stored (sorted) order.
    public let entries: [(key: [UInt8], value: [UInt8])]

    /// Parses `bytes`, the whole content of `file` (named in errors).
    public init(bytes: [UInt8], file: String) throws(TensorFlowIOError) {
        let all = bytes[...]
        guard all.count >= Self.footerLength else {
            throw .truncated(file: file, what: "file is \(all.count) bytes, shorter than the 48-byte table footer")
        }
        let footerStart = all.endIndex - Self.footerLength
        guard ByteReader.fixed64(all, at: all.endIndex - 8) == Self.magic else {
            throw .corrupt(file: file, what: "no LevelDB table magic in the last 8 bytes (not a TensorFlow .index file, or truncated)")
        }
        var footer = ByteReader(all[footerStart..<(all.endIndex - 8)], file: file)
        _ = try Self.blockHandle(&footer, "metaindex handle in footer")
        let indexHandle = try Self.blockHandle(&footer, "index handle in footer")
        let indexBlock = try Self.block(all, indexHandle, limit: footerStart, file: file, what: "index block")
        var entries: [(key: [UInt8], value: [UInt8])] = []
        for (indexKey, handleBytes) in try Self.blockEntries(indexBlock, file: file, what: "index block") {
            var reader = ByteReader(handleBytes[...], file: file)
            let handle = try Self.blockHandle(&reader, "data block handle for key '\(Self.printable(indexKey))'")
            let what = "data block at offset \(handle.offset)"
            let data = try Self.block(all, handle, limit: footerStart, file: file, what: what)
            entries += try Self.blockEntries(data, file: file, what: what)
        }
        self.entries = entries
    }

    /// A key shown in an error message: printable ASCII kept, other bytes as \xNN.
    static func printable(_ key: [UInt8]) -> String {
        key.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
    }

    private static func blockHandle(_ reader: inout ByteReader, _ what: String) throws(TensorFlowIOError) -> (offset: Int, size: Int) {
        let offset = try reader.varint64(what)
        let size = try reader.varint64(what)
        guard offset <= UInt64(Int.max / 2), size <= UInt64(Int.max / 2) else {
            throw .corrupt(file: reader.file, what: "\(what): offset \(offset) size \(size) out of range")
        }
        return (Int(offset), Int(size))
    }

    /// The block's contents after checking its trailer (compression type and masked CRC32C).
    private static func block(_ all: ArraySlice<UInt8>, _ handle: (offset: Int, size: Int), limit: Int,
                              file: String, what: String) throws(TensorFlowIOError) -> ArraySlice<UInt8> {
        let end = handle.offset + handle.size + blockTrailerLength
        guard end <= limit else {
            throw .truncated(file: file, what: "\(what) (offset \(handle.offset), \(handle.size) bytes) runs past the footer")
        }
        let contents = all[handle.offset..<(handle.offset + handle.size)]
        let trailer = handle.offset + handle.size
        let type = all[trailer]
        guard type == 0 else {
            throw .unsupported(file: file, what: "\(what) compressed with type \(type) (only uncompressed tables are read)")
        }
        let stored = CRC32C.unmask(ByteReader.fixed32(all, at: trailer + 1))
        let computed = all[handle.offset...trailer].withUnsafeBytes { CRC32C.checksum($0) }
        guard stored == computed else {
            throw .checksumMismatch(file: file, what: what, stored: stored, computed: computed)
        }
        return contents
    }

    /// Decodes a block: prefix-compressed entries followed by the restart array.
    private static func blockEntries(_ block: ArraySlice<UInt8>, file: String,
                                     what: String) throws(TensorFlowIOError) -> [([UInt8], [UInt8])] {
        guard block.count >= 4 else { throw .truncated(file: file, what: "\(what): no restart count") }
        let restartCount = Int(ByteReader.fixed32(block, at: block.endIndex - 4))
        let restartBytes = restartCount.multipliedReportingOverflow(by: 4)
        guard restartCount >= 1, !restartBytes.overflow, restartBytes.partialValue + 4 <= block.count else {
            throw .corrupt(file: file, what: "\(what): restart count \(restartCount) does not fit a \(block.count)-byte block")
        }
        let entriesEnd = block.endIndex - 4 - restartBytes.partialValue
        var reader = ByteReader(block[block.startIndex..<entriesEnd], file: file)
        var result: [([UInt8], [UInt8])] = []
        var previous: [UInt8] = []
        while !reader.atEnd {
            let shared = try reader.varint32(what)
            let unshared = try reader.varint32(what)
            let valueLength = try reader.varint32(what)
            guard shared <= previous.count else {
                throw .corrupt(file: file, what: "\(what): entry shares \(shared) key bytes, previous key has \(previous.count)")
            }
            let key = Array(previous[0..<shared]) + Array(try reader.take(unshared, "\(what): key bytes"))
            let value = Array(try reader.take(valueLength, "\(what): value of key '\(printable(key))'"))
            result.append((key, value))
            previous = key
        }
        return result
    }
}
