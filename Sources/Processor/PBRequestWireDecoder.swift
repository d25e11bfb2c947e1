/// A fast decoder for the canonical protobuf wire form of ``PBRequest``: the form every EAS
/// client writes (known fields with their declared wire types, each map entry's key and value at
/// most once, one member per PBFeature). SwiftProtobuf's generic decoder spends about a quarter
/// of a 100-item request's server CPU on the 1,500 small PBFeature messages; this one walks the
/// bytes directly. Anything else (unknown fields, groups, odd wire types, invalid UTF-8,
/// truncation) returns nil and the caller decodes with SwiftProtobuf, so results and errors
/// are SwiftProtobuf's in every case (a differential test checks the two agree).
enum PBRequestWireDecoder {
    static func decode(_ body: [UInt8]) -> PBRequest? {
        if body.isEmpty { return PBRequest() }
        return body.withUnsafeBufferPointer { buf -> PBRequest? in
            guard let base = buf.baseAddress else { return nil }
            var reader = WireReader(start: base, count: buf.count)
            return request(&reader)
        }
    }

    private static func request(_ r: inout WireReader) -> PBRequest? {
        var out = PBRequest()
        while !r.atEnd {
            guard let (field, wire) = r.tag() else { return nil }
            switch (field, wire) {
            case (1, 0):
                guard let v = r.varint() else { return nil }
                out.debugLevel = Int32(truncatingIfNeeded: v)
            case (2, 2):
                guard let (key, value) = mapEntry(&r, default: PBFeature(), value: feature) else { return nil }
                out.userFeatures[key] = value
            case (3, 2):
                guard let s = r.string() else { return nil }
                out.itemIds.append(s)
            case (4, 2):
                guard let (key, value) = mapEntry(&r, default: PBContextFeatures(), value: contextFeatures) else { return nil }
                out.contextFeatures[key] = value
            case (5, 0):
                guard let v = r.varint() else { return nil }
                out.faissNeighNum = Int32(truncatingIfNeeded: v)
            default:
                return nil
            }
        }
        return out
    }

    /// One map entry (a length-delimited field holding key 1 and value 2, each at most once;
    /// a missing key is "" and a missing value the default message, as protobuf says).
    private static func mapEntry<V>(_ r: inout WireReader, default empty: V,
                                    value decode: (inout WireReader) -> V?) -> (String, V)? {
        guard var entry = r.sub() else { return nil }
        var key = "", value = empty, sawKey = false, sawValue = false
        while !entry.atEnd {
            guard let (f, w) = entry.tag() else { return nil }
            if f == 1 && w == 2 && !sawKey {
                guard let k = entry.string() else { return nil }
                key = k; sawKey = true
            } else if f == 2 && w == 2 && !sawValue {
                guard var sub = entry.sub(), let v = decode(&sub) else { return nil }
                value = v; sawValue = true
            } else {
                return nil
            }
        }
        return (key, value)
    }

    private static func contextFeatures(_ r: inout WireReader) -> PBContextFeatures? {
        var out = PBContextFeatures()
        while !r.atEnd {
            guard let (f, w) = r.tag(), f == 1, w == 2, var sub = r.sub(), let v = feature(&sub) else { return nil }
            out.features.append(v)
        }
        return out
    }

    private static func feature(_ r: inout WireReader) -> PBFeature? {
        var out = PBFeature()
        var seen = false
        while !r.atEnd {
            guard !seen, let (f, w) = r.tag() else { return nil }
            seen = true
            switch (f, w) {
            case (1, 0):
                guard let v = r.varint() else { return nil }
                out.value = .intFeature(Int32(truncatingIfNeeded: v))
            case (2, 0):
                guard let v = r.varint() else { return nil }
                out.value = .longFeature(Int64(bitPattern: v))
            case (3, 2):
                guard let s = r.string() else { return nil }
                out.value = .stringFeature(s)
            case (4, 5):
                guard let bits = r.fixed32() else { return nil }
                out.value = .floatFeature(Float(bitPattern: bits))
            default:
                return nil
            }
        }
        return out
    }
}

/// A cursor over protobuf wire bytes; every read is bounds-checked and returns nil past the end.
struct WireReader {
    private var p: UnsafePointer<UInt8>
    private let end: UnsafePointer<UInt8>

    init(start: UnsafePointer<UInt8>, count: Int) {
        p = start
        end = start + count
    }

    var atEnd: Bool { p >= end }

    /// A varint of at most 10 bytes that fits 64 bits.
    mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while p < end {
            let b = p.pointee
            p += 1
            if shift == 63 && b > 1 { return nil }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    /// (field number, wire type); nil for field 0 or field numbers beyond 2^29 - 1.
    mutating func tag() -> (Int, Int)? {
        guard let t = varint(), t <= UInt64(UInt32.max) else { return nil }
        let field = Int(t >> 3)
        guard field > 0 else { return nil }
        return (field, Int(t & 7))
    }

    /// A length-delimited field's bytes as a reader.
    mutating func sub() -> WireReader? {
        guard let n = varint(), n <= UInt64(end - p) else { return nil }
        let r = WireReader(start: p, count: Int(n))
        p += Int(n)
        return r
    }

    /// A length-delimited field as valid UTF-8 text.
    mutating func string() -> String? {
        guard let n = varint(), n <= UInt64(end - p) else { return nil }
        let bytes = UnsafeBufferPointer(start: p, count: Int(n))
        p += Int(n)
        // ASCII (the common case) is valid UTF-8 as is; only other text takes the validating decode.
        var high: UInt8 = 0
        for b in bytes { high |= b }
        return high < 0x80 ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }

    /// A little-endian 32-bit field.
    mutating func fixed32() -> UInt32? {
        guard end - p >= 4 else { return nil }
        let v = UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)
        p += 4
        return UInt32(littleEndian: v)
    }
}
