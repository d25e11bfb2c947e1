/// bfloat16 conversions: a bf16 value is the upper 16 bits of an f32 (sign, 8 exponent bits,
/// 7 mantissa bits), so widening is a 16-bit shift and is exact. Narrowing rounds to nearest,
/// ties to even, on the bit pattern: finite values too big for bf16 become infinities,
/// subnormals round like any other value, infinities stay infinities and NaN stays NaN (made
/// quiet, sign kept).
public enum BF16 {
    /// `f` rounded to the nearest bf16 (ties to even).
    @inline(__always)
    public static func round(_ f: Float) -> UInt16 {
        let b = f.bitPattern
        if b & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
        let lsb = (b >> 16) & 1
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ lsb) >> 16)
    }

    /// The f32 of bf16 bits `h` (exact).
    @inline(__always)
    public static func widen(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// `f` rounded to bf16 and widened back: the f32 a bf16 table holds for `f`.
    @inline(__always)
    public static func rounded(_ f: Float) -> Float { widen(round(f)) }

    typealias U = SIMD16<UInt32>

    /// 16 lanes of ``round(_:)``. The NaN lanes are selected with integer arithmetic, not a
    /// SIMD mask (`replace(with:where:)` compiles to a per-lane loop).
    @inline(__always)
    static func round16(_ b: U) -> SIMD16<UInt16> {
        let lsb = (b &>> 16) & 1
        let r = (b &+ 0x7FFF &+ lsb) &>> 16
        // 1 in NaN lanes (|b| > 0x7F800000 makes 0x7F800000 - |b| wrap negative), else 0.
        let nan = (U(repeating: 0x7F80_0000) &- (b & 0x7FFF_FFFF)) &>> 31
        let all = U(repeating: 0) &- nan
        let quiet = (b &>> 16) | 0x0040
        return SIMD16<UInt16>(truncatingIfNeeded: (r & ~all) | (quiet & all))
    }

    /// `dst[0..<n] = round(src[0..<n])`; `src` may be unaligned raw bytes of little-endian f32s.
    @inline(__always)
    static func round(raw src: UnsafeRawPointer, into dst: UnsafeMutablePointer<UInt16>, count n: Int) {
        var i = 0
        while i + 16 <= n {
            let b = src.loadUnaligned(fromByteOffset: 4 * i, as: U.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: round16(b), as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < n {
            dst[i] = round(Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            i += 1
        }
    }

    /// `dst[0..<n] = round(src[0..<n])`.
    @inline(__always)
    static func round(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count n: Int) {
        round(raw: UnsafeRawPointer(src), into: dst, count: n)
    }

    /// `dst[0..<n] = widen(src[0..<n])`.
    @inline(__always)
    static func widen(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n {
            let h = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt16>.self)
            let f = unsafeBitCast(U(truncatingIfNeeded: h) &<< 16, to: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: f, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { dst[i] = widen(src[i]); i += 1 }
    }

    /// `y[c] += w * widen(x[c])` (multiply then add, not fused: the same arithmetic as
    /// ``VectorOps/addScaled(_:_:into:_:)`` on the widened row), 16 or 8 lanes at a time.
    @inline(__always)
    static func addScaled(_ w: Float, _ x: UnsafePointer<UInt16>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let raw = UnsafeRawPointer(x)
        var c = 0
        if n >= 16 {
            let wv = SIMD16<Float>(repeating: w)
            while c + 16 <= n {
                let h = raw.loadUnaligned(fromByteOffset: 2 * c, as: SIMD16<UInt16>.self)
                let f = unsafeBitCast(U(truncatingIfNeeded: h) &<< 16, to: SIMD16<Float>.self)
                VectorOps.store(VectorOps.load(y + c) + wv * f, y + c)
                c += 16
            }
        }
        if c + 8 <= n {
            let h = raw.loadUnaligned(fromByteOffset: 2 * c, as: SIMD8<UInt16>.self)
            let f = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self)
            let yp = UnsafeMutableRawPointer(y + c)
            yp.storeBytes(of: yp.loadUnaligned(as: SIMD8<Float>.self) + SIMD8<Float>(repeating: w) * f, as: SIMD8<Float>.self)
            c += 8
        }
        while c < n { y[c] += w * widen(x[c]); c += 1 }
    }
}

/// A block of bf16 values on the heap (`count` UInt16s), freed on deinit.
///
/// `@unchecked Sendable`: only immutable `let` properties; like ``FloatBuffer`` it does not
/// synchronize the values, its owner does (``ParameterStore`` writes them only under its write
/// lock, readers read them under its read lock).
public final class BF16Buffer: @unchecked Sendable {
    /// First value.
    public let pointer: UnsafeMutablePointer<UInt16>
    /// Number of values.
    public let count: Int

    /// Zero-filled memory for `count` values.
    public init(zeroed count: Int) {
        self.count = max(count, 0)
        pointer = .allocate(capacity: max(self.count, 1))
        pointer.initialize(repeating: 0, count: max(self.count, 1))
    }

    /// `values` rounded to bf16 (one pass; the f32 source can be a memory map dropped afterwards).
    public init(rounding values: UnsafeBufferPointer<Float>) {
        count = values.count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        if let b = values.baseAddress { BF16.round(b, into: pointer, count: count) }
    }

    /// Read-only view of the bits.
    public var buffer: UnsafeBufferPointer<UInt16> { UnsafeBufferPointer(start: pointer, count: count) }

    /// The values widened to f32.
    public func toFloats(offset: Int = 0, count n: Int? = nil) -> [Float] {
        let n = n ?? (count - offset)
        return [Float](unsafeUninitializedCapacity: n) { out, done in
            if let o = out.baseAddress, n > 0 { BF16.widen(pointer + offset, into: o, count: n) }
            done = n
        }
    }

    deinit { pointer.deallocate() }
}
