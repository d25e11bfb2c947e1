/// One atomic input value (internal): a byte string piece, or a number.
enum FGAtom {
    case bytes(UnsafeRawBufferPointer)
    case int(Int64)
    case double(Double)
    case bool(Bool)
}

enum FGAtoms {
    /// Calls `body` for each valid atomic value of `value` (fg.md section 2): strings split on
    /// `\u{1d}` (plus `extraSeparator` when non-zero), empty strings dropped, NaN and the integer
    /// maximum skipped; at most `limit` values. `body` returns false to stop early.
    @inline(__always)
    static func forEach(_ value: FeatureValue, limit: Int, extraSeparator: UInt8 = 0,
                        _ body: (FGAtom) -> Bool) {
        var remaining = limit
        switch value {
        case .string(let s):
            _ = splitString(s, extraSeparator: extraSeparator, remaining: &remaining, body)
        case .strings(let list):
            for s in list where remaining > 0 {
                if !splitString(s, extraSeparator: extraSeparator, remaining: &remaining, body) { return }
            }
        case .int(let i):
            if validInt(i), limit > 0 { _ = body(.int(i)) }
        case .ints(let list):
            for i in list where validInt(i) {
                guard remaining > 0 else { return }
                remaining -= 1
                if !body(.int(i)) { return }
            }
        case .float(let d):
            if !d.isNaN, limit > 0 { _ = body(.double(d)) }
        case .floats(let list):
            for d in list where !d.isNaN {
                guard remaining > 0 else { return }
                remaining -= 1
                if !body(.double(d)) { return }
            }
        case .bool(let b):
            if limit > 0 { _ = body(.bool(b)) }
        }
    }

    @inline(__always)
    static func validInt(_ i: Int64) -> Bool { i != Int64.max && i != Int64(Int32.max) }

    /// Returns false when `body` asked to stop.
    @inline(__always)
    static func splitString(_ s: String, extraSeparator: UInt8, remaining: inout Int,
                            _ body: (FGAtom) -> Bool) -> Bool {
        if let r = s.utf8.withContiguousStorageIfAvailable({ buf in
            splitBytes(UnsafeRawBufferPointer(buf), extraSeparator: extraSeparator, remaining: &remaining, body)
        }) {
            return r
        }
        var copy = s
        return copy.withUTF8 { buf in
            splitBytes(UnsafeRawBufferPointer(buf), extraSeparator: extraSeparator, remaining: &remaining, body)
        }
    }

    @inline(__always)
    static func splitBytes(_ p: UnsafeRawBufferPointer, extraSeparator: UInt8, remaining: inout Int,
                           _ body: (FGAtom) -> Bool) -> Bool {
        var start = 0
        let n = p.count
        var i = 0
        while i <= n {
            if i == n || p[i] == 0x1d || (extraSeparator != 0 && p[i] == extraSeparator) {
                if i > start {
                    guard remaining > 0 else { return false }
                    remaining -= 1
                    if !body(.bytes(UnsafeRawBufferPointer(rebasing: p[start..<i]))) { return false }
                }
                start = i + 1
            }
            i += 1
        }
        return true
    }

    /// Append the id text of an atom (integers decimal, floats `%.0f`, booleans 1/0).
    @inline(__always)
    static func append(_ atom: FGAtom, to out: inout [UInt8]) {
        switch atom {
        case .bytes(let b): out.append(contentsOf: b)
        case .int(let i): FGMath.appendInt(i, to: &out)
        case .double(let d): FGMath.appendRounded(d, to: &out)
        case .bool(let b): out.append(b ? 49 : 48)
        }
    }

    /// The numeric value of an atom; nil when not a number (or NaN).
    @inline(__always)
    static func number(_ atom: FGAtom) -> Double? {
        switch atom {
        case .bytes(let b):
            guard let d = FGMath.parseDouble(b), !d.isNaN else { return nil }
            return d
        case .int(let i): return Double(i)
        case .double(let d): return d.isNaN ? nil : d
        case .bool(let b): return b ? 1 : 0
        }
    }
}
