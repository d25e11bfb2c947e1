import FG

/// The compact byte form of one item's features: per field one tag byte, then the value
/// (zigzag varints for integers, 4 bytes for floats a Float holds exactly, else 8; strings as
/// varint length + UTF-8). A missing value is the tag alone.
enum ItemRecordCodec {
    enum Tag: UInt8 {
        case missing = 0, int, float32, float64, string, boolFalse, boolTrue, strings, ints, floats
    }

    static func append(_ values: [FeatureValue?], fieldCount: Int, to out: inout [UInt8]) {
        for f in 0..<fieldCount {
            guard f < values.count, let value = values[f] else { out.append(Tag.missing.rawValue); continue }
            switch value {
            case .int(let i):
                out.append(Tag.int.rawValue)
                appendVarint(zigzag(i), to: &out)
            case .float(let d):
                if let single = Float(exactly: d) {
                    out.append(Tag.float32.rawValue)
                    appendFixed(single.bitPattern, to: &out)
                } else {
                    out.append(Tag.float64.rawValue)
                    appendFixed(d.bitPattern, to: &out)
                }
            case .bool(let b): out.append(b ? Tag.boolTrue.rawValue : Tag.boolFalse.rawValue)
            case .string(let s):
                out.append(Tag.string.rawValue)
                appendString(s, to: &out)
            case .strings(let list):
                out.append(Tag.strings.rawValue)
                appendVarint(UInt64(list.count), to: &out)
                for s in list { appendString(s, to: &out) }
            case .ints(let list):
                out.append(Tag.ints.rawValue)
                appendVarint(UInt64(list.count), to: &out)
                for i in list { appendVarint(zigzag(i), to: &out) }
            case .floats(let list):
                out.append(Tag.floats.rawValue)
                appendVarint(UInt64(list.count), to: &out)
                for d in list { appendFixed(d.bitPattern, to: &out) }
            }
        }
    }

    /// Decode the record starting at `offset`; `body(field, value)` for every present field
    /// whose `wanted` flag is set. Records are written by `append` only, so they are well formed.
    static func decode(_ arena: UnsafeBufferPointer<UInt8>, at offset: Int, fieldCount: Int,
                       _ body: (Int, FeatureValue) -> Void) {
        var p = offset
        for f in 0..<fieldCount {
            let tag = Tag(rawValue: arena[p]) ?? .missing
            p += 1
            switch tag {
            case .missing: continue
            case .int: body(f, .int(unzigzag(readVarint(arena, &p))))
            case .float32: body(f, .float(Double(Float(bitPattern: readFixed(arena, &p, UInt32.self)))))
            case .float64: body(f, .float(Double(bitPattern: readFixed(arena, &p, UInt64.self))))
            case .boolFalse: body(f, .bool(false))
            case .boolTrue: body(f, .bool(true))
            case .string: body(f, .string(readString(arena, &p)))
            case .strings:
                let n = Int(readVarint(arena, &p))
                var list: [String] = []
                list.reserveCapacity(n)
                for _ in 0..<n { list.append(readString(arena, &p)) }
                body(f, .strings(list))
            case .ints:
                let n = Int(readVarint(arena, &p))
                var list: [Int64] = []
                list.reserveCapacity(n)
                for _ in 0..<n { list.append(unzigzag(readVarint(arena, &p))) }
                body(f, .ints(list))
            case .floats:
                let n = Int(readVarint(arena, &p))
                var list: [Double] = []
                list.reserveCapacity(n)
                for _ in 0..<n { list.append(Double(bitPattern: readFixed(arena, &p, UInt64.self))) }
                body(f, .floats(list))
            }
        }
    }

    /// Length in bytes of the record at `offset`.
    static func length(_ arena: UnsafeBufferPointer<UInt8>, at offset: Int, fieldCount: Int) -> Int {
        var p = offset
        for _ in 0..<fieldCount {
            let tag = Tag(rawValue: arena[p]) ?? .missing
            p += 1
            switch tag {
            case .missing, .boolFalse, .boolTrue: continue
            case .int: _ = readVarint(arena, &p)
            case .float32: p += 4
            case .float64: p += 8
            case .string: p += Int(readVarint(arena, &p))
            case .strings:
                let n = Int(readVarint(arena, &p))
                for _ in 0..<n { p += Int(readVarint(arena, &p)) }
            case .ints:
                let n = Int(readVarint(arena, &p))
                for _ in 0..<n { _ = readVarint(arena, &p) }
            case .floats: p += 8 * Int(readVarint(arena, &p))
            }
        }
        return p - offset
    }

    @inline(__always) static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inline(__always) static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func appendFixed<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        var copy = s
        copy.withUTF8 { utf8 in
            appendVarint(UInt64(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        }
    }

    @inline(__always)
    static func readVarint(_ a: UnsafeBufferPointer<UInt8>, _ p: inout Int) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = a[p]
            p += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always)
    static func readFixed<T: FixedWidthInteger>(_ a: UnsafeBufferPointer<UInt8>, _ p: inout Int, _: T.Type) -> T {
        let v = UnsafeRawBufferPointer(a).loadUnaligned(fromByteOffset: p, as: T.self)
        p += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    static func readString(_ a: UnsafeBufferPointer<UInt8>, _ p: inout Int) -> String {
        let n = Int(readVarint(a, &p))
        let s = String(decoding: UnsafeBufferPointer(rebasing: a[p..<(p + n)]), as: UTF8.self)
        p += n
        return s
    }
}
