/// A bounds-checked little-endian cursor over bytes (LevelDB varints and fixed ints); every
/// read past the end throws ``TensorFlowIOError/truncated(file:what:)`` naming the file.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    let file: String
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>, file: String) {
        self.bytes = bytes
        self.file = file
        self.position = bytes.startIndex
    }

    var atEnd: Bool { position >= bytes.endIndex }

    mutating func varint64(_ what: String) throws(TensorFlowIOError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw .truncated(file: file, what: "varint in \(what)") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw .corrupt(file: file, what: "varint longer than 10 bytes in \(what)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func varint32(_ what: String) throws(TensorFlowIOError) -> Int {
        let value = try varint64(what)
        guard value <= UInt64(UInt32.max) else { throw .corrupt(file: file, what: "varint32 overflow in \(what)") }
        return Int(value)
    }

    mutating func take(_ count: Int, _ what: String) throws(TensorFlowIOError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.endIndex - position >= count else { throw .truncated(file: file, what: what) }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    static func fixed32(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[index + offset]) << (8 * UInt32(offset)) }
        return value
    }

    static func fixed64(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt64 {
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
        return value
    }
}
