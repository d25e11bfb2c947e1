/// Decoders for PostgreSQL's binary wire format (big-endian scalars, one-dimensional arrays).
public enum PGBinary {
    /// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
    public static let epochOffsetMicros: Int64 = 946_684_800_000_000

    /// A malformed binary value (wrong length, bad array header).
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var description: String { reason }
    }

    @inline(__always)
    static func load<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, at offset: Int, as: T.Type) -> T {
        T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// int2, int4 or int8 (by length) as Int64.
    public static func integer(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Int64 {
        switch bytes.count {
        case 2: return Int64(load(bytes, at: 0, as: Int16.self))
        case 4: return Int64(load(bytes, at: 0, as: Int32.self))
        case 8: return load(bytes, at: 0, as: Int64.self)
        default: throw Malformed(reason: "integer of \(bytes.count) bytes")
        }
    }

    /// float4 or float8 (by length) as Double.
    public static func float(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Double {
        switch bytes.count {
        case 4: return Double(Float(bitPattern: load(bytes, at: 0, as: UInt32.self)))
        case 8: return Double(bitPattern: load(bytes, at: 0, as: UInt64.self))
        default: throw Malformed(reason: "float of \(bytes.count) bytes")
        }
    }

    public static func bool(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Bool {
        guard bytes.count == 1 else { throw Malformed(reason: "bool of \(bytes.count) bytes") }
        return bytes[0] != 0
    }

    public static func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

    /// timestamp / timestamptz (microseconds since 2000-01-01) as microseconds since 1970-01-01.
    public static func timestampMicros(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Int64 {
        guard bytes.count == 8 else { throw Malformed(reason: "timestamp of \(bytes.count) bytes") }
        return load(bytes, at: 0, as: Int64.self) &+ epochOffsetMicros
    }

    /// Elements of a one-dimensional array (an empty array has zero dimensions); nil entries are NULL.
    public static func arrayElements(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> (element: UInt32, items: [UnsafeRawBufferPointer?]) {
        guard bytes.count >= 12 else { throw Malformed(reason: "array header of \(bytes.count) bytes") }
        let dims = load(bytes, at: 0, as: Int32.self)
        let element = load(bytes, at: 8, as: UInt32.self)
        if dims == 0 { return (element, []) }
        guard dims == 1 else { throw Malformed(reason: "\(dims)-dimensional array (only one dimension is supported)") }
        guard bytes.count >= 20 else { throw Malformed(reason: "array dimension header truncated") }
        let count = Int(load(bytes, at: 12, as: Int32.self))
        var items: [UnsafeRawBufferPointer?] = []
        items.reserveCapacity(max(0, count))
        var offset = 20
        for _ in 0..<max(0, count) {
            guard offset + 4 <= bytes.count else { throw Malformed(reason: "array element length truncated") }
            let length = Int(load(bytes, at: offset, as: Int32.self))
            offset += 4
            if length < 0 { items.append(nil); continue }
            guard offset + length <= bytes.count else { throw Malformed(reason: "array element truncated") }
            items.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            offset += length
        }
        return (element, items)
    }
}
