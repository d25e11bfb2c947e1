#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Numeric helpers over raw bytes: C-locale parsing and formatting without heap allocation.
public enum FGMath {
    /// Base-10 logarithm (C library).
    public static func log10(_ x: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.log10(x)
        #elseif canImport(Musl)
        return Musl.log10(x)
        #else
        return Darwin.log10(x)
        #endif
    }

    /// Parse a whole byte string as a decimal/float number (C locale); nil when not a number.
    public static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0, n < 512 else { return n == 0 ? nil : slowParseDouble(bytes) }
        // Fast path: plain integers.
        if let v = parseInt(bytes), abs(v) < (1 << 53) { return Double(v) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            guard let base = buf.baseAddress else { return nil }
            for k in 0..<n {
                let c = bytes[k]
                if c == 0 || c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { return nil }
                base[k] = CChar(bitPattern: c)
            }
            base[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(base, &end)
            guard let e = end, e == base + n else { return nil }
            return v
        }
    }

    static func slowParseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        Double(String(decoding: bytes, as: UTF8.self))
    }

    /// Parse a whole byte string as a Float (for weights); nil when not a number.
    public static func parseFloat(_ bytes: UnsafeRawBufferPointer) -> Float? {
        let n = bytes.count
        guard n > 0, n < 512 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Float? in
            guard let base = buf.baseAddress else { return nil }
            for k in 0..<n {
                let c = bytes[k]
                if c == 0 || c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { return nil }
                base[k] = CChar(bitPattern: c)
            }
            base[n] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtof(base, &end)
            guard let e = end, e == base + n else { return nil }
            return v
        }
    }

    /// Parse a whole byte string as a decimal Int64 (optional sign); nil otherwise.
    public static func parseInt(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        let n = bytes.count
        guard n > 0 else { return nil }
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < n, n - i <= 19 else { return nil }
        var v: Int64 = 0
        while i < n {
            let d = bytes[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// Append the decimal digits of `v`.
    @inlinable
    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 { out.append(48); return }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var mag = v.magnitude
        var k = 20
        withUnsafeMutableBytes(of: &tmp) { p in
            while mag > 0 {
                k -= 1
                p[k] = UInt8(truncatingIfNeeded: mag % 10) + 48
                mag /= 10
            }
            if v < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[k..<20]))
        }
    }

    /// Append a float as C's `%.0f` (round half to even; "-0" for negative values rounding to zero).
    public static func appendRounded(_ x: Double, to out: inout [UInt8]) {
        if x.isNaN { return }
        if x.isInfinite { out.append(contentsOf: x < 0 ? Array("-inf".utf8) : Array("inf".utf8)); return }
        let r = x.rounded(.toNearestOrEven)
        if r == 0 {
            if x.sign == .minus { out.append(UInt8(ascii: "-")) }
            out.append(48)
            return
        }
        if abs(r) < 9.0e18 {
            appendInt(Int64(r), to: &out)
            return
        }
        // Large magnitudes: exact decimal expansion of the integral double (rare path).
        var mag = r.magnitude
        var digits: [UInt8] = []
        while mag >= 1 {
            let q = (mag / 10).rounded(.towardZero)
            let d = mag - q * 10
            digits.append(UInt8(d) + 48)
            mag = q
        }
        if r < 0 { out.append(UInt8(ascii: "-")) }
        out.append(contentsOf: digits.reversed())
    }

    /// Append the shortest round-trip rendering of a double (Swift's `description`).
    @inlinable
    public static func appendShortest(_ x: Double, to out: inout [UInt8]) {
        var s = x.description  // at most 24 bytes: stored inline, no heap allocation
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    /// Append a feature value: a double that is exactly a float32 (a request's `float_feature`, which
    /// the model reads as float32 anyway) as the shortest text that round-trips the float32
    /// (`56.88`, not `56.880001068115234`); any other double as the shortest round-trip double.
    @inlinable
    public static func appendShortestValue(_ x: Double, to out: inout [UInt8]) {
        let f = Float(x)
        if f.isFinite, Double(f) == x {
            appendShortest(f, to: &out)
        } else {
            appendShortest(x, to: &out)
        }
    }

    /// Append the shortest round-trip rendering of a float weight.
    @inlinable
    public static func appendShortest(_ x: Float, to out: inout [UInt8]) {
        var s = x.description
        s.withUTF8 { out.append(contentsOf: $0) }
    }
}
