/// Decoder for TensorFlow's OrderedCode key encoding, used by the keys of slices of
/// partitioned variables in a bundle index (`checkpoint::EncodeTensorNameSlice`):
/// `num(0) string(name) num(rank) (signed(start) signed(length))*rank`.
struct OrderedCodeReader {
    private var bytes: ArraySlice<UInt8>
    let file: String

    init(_ bytes: [UInt8], file: String) {
        self.bytes = bytes[...]
        self.file = file
    }

    var atEnd: Bool { bytes.isEmpty }

    /// `WriteNumIncreasing`: a length byte, then that many big-endian bytes.
    mutating func unsigned() throws(TensorFlowIOError) -> UInt64 {
        guard let length = bytes.first, length <= 8, bytes.count > Int(length) else {
            throw .corrupt(file: file, what: "slice key: bad OrderedCode number")
        }
        var value: UInt64 = 0
        for byte in bytes.dropFirst().prefix(Int(length)) { value = value << 8 | UInt64(byte) }
        bytes = bytes.dropFirst(Int(length) + 1)
        return value
    }

    /// `WriteString`: 0x00 escaped as 00 ff, 0xff as ff 00, terminated by 00 01.
    mutating func string() throws(TensorFlowIOError) -> [UInt8] {
        var result: [UInt8] = []
        while let byte = bytes.first {
            let next = bytes.dropFirst().first
            switch (byte, next) {
            case (0x00, 0x01): bytes = bytes.dropFirst(2); return result
            case (0x00, 0xFF): result.append(0x00); bytes = bytes.dropFirst(2)
            case (0xFF, 0x00): result.append(0xFF); bytes = bytes.dropFirst(2)
            case (0x00, _), (0xFF, _): throw .corrupt(file: file, what: "slice key: bad OrderedCode string escape")
            default: result.append(byte); bytes = bytes.dropFirst()
            }
        }
        throw .corrupt(file: file, what: "slice key: unterminated OrderedCode string")
    }

    /// `WriteSignedNumIncreasing`: the header bits of the first byte(s) give the length; a
    /// clear top bit means negative (the bytes are then complemented).
    mutating func signed() throws(TensorFlowIOError) -> Int64 {
        guard let raw = bytes.first else { throw .corrupt(file: file, what: "slice key: missing signed number") }
        let negative = raw & 0x80 == 0
        let flip: UInt8 = negative ? 0xFF : 0
        let first = raw ^ flip
        var length: Int
        if first != 0xFF {
            length = (first ^ 0xFF).leadingZeroBitCount  // the leading one bits of `first`
        } else {
            guard bytes.count >= 2 else { throw .corrupt(file: file, what: "slice key: short signed number") }
            let second = bytes[bytes.startIndex + 1] ^ flip
            length = second >= 0xC0 ? 10 : (second >= 0x80 ? 9 : 8)
        }
        guard length >= 1, length <= 10, bytes.count >= length else {
            throw .corrupt(file: file, what: "slice key: signed number of length \(length)")
        }
        var value: UInt64 = negative ? ~0 : 0
        for byte in bytes.prefix(length).suffix(min(length, 8)) { value = value << 8 | UInt64(byte) }
        let headerMask: [UInt64] = [0, 0x80, 0xC000, 0xE0_0000, 0xF000_0000, 0xF8_0000_0000, 0xFC00_0000_0000,
                                    0xFE_0000_0000_0000, 0xFF00_0000_0000_0000, 0x8000_0000_0000_0000, 0]
        value ^= headerMask[length]
        bytes = bytes.dropFirst(length)
        return Int64(bitPattern: value)
    }
}

/// One slice key of a bundle index, decoded.
struct SliceKey: Sendable {
    /// The full variable's name.
    let name: String
    /// Per dimension: start and length (-1 = the whole dimension).
    let extents: [(start: Int, length: Int)]

    /// Decodes `key`; nil when it is not a slice key (those start with a 0x00 byte).
    static func decode(_ key: [UInt8], file: String) throws(TensorFlowIOError) -> SliceKey? {
        guard key.first == 0x00 else { return nil }
        var reader = OrderedCodeReader(key, file: file)
        guard try reader.unsigned() == 0 else { return nil }
        let name = String(decoding: try reader.string(), as: UTF8.self)
        let rank = try reader.unsigned()
        guard rank <= 32 else { throw .corrupt(file: file, what: "slice key of '\(name)': rank \(rank)") }
        var extents: [(start: Int, length: Int)] = []
        for _ in 0..<rank {
            let start = try reader.signed()
            let length = try reader.signed()
            extents.append((Int(start), Int(length)))
        }
        return SliceKey(name: name, extents: extents)
    }
}
