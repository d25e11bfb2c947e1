/// Splits protobuf text format into tokens (skipping whitespace and `#` comments).
struct TextToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case identifier(String)
        case number(String)
        case string([UInt8])
        case symbol(UInt8)
        case end
    }
    var kind: Kind
    var line: Int
    var column: Int
}

struct TextFormatTokenizer {
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    let source: String

    init(text: String, source: String) {
        self.bytes = Array(text.utf8)
        self.source = source
    }

    private func error(_ reason: String, line: Int, column: Int) -> ConfigError {
        ConfigError(.syntax, path: "", line: line, column: column, reason: reason, source: source)
    }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }

    private mutating func skipSpaceAndComments() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x0A {
                pos += 1; line += 1; lineStart = pos
            } else if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0B || c == 0x0C {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                while pos < bytes.count, bytes[pos] != 0x0A { pos += 1 }
            } else {
                return
            }
        }
    }

    /// The next token.
    mutating func next() throws(ConfigError) -> TextToken {
        skipSpaceAndComments()
        let tokLine = line
        let col = pos - lineStart + 1
        guard pos < bytes.count else { return TextToken(kind: .end, line: tokLine, column: col) }
        let c = bytes[pos]
        if TextFormatTokenizer.isIdentStart(c) {
            let start = pos
            while pos < bytes.count, TextFormatTokenizer.isIdentChar(bytes[pos]) { pos += 1 }
            return TextToken(kind: .identifier(String(decoding: bytes[start..<pos], as: UTF8.self)), line: tokLine, column: col)
        }
        if TextFormatTokenizer.isDigit(c) || (c == UInt8(ascii: ".") && pos + 1 < bytes.count && TextFormatTokenizer.isDigit(bytes[pos + 1])) {
            return TextToken(kind: .number(scanNumber()), line: tokLine, column: col)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            return TextToken(kind: .string(try scanString(quote: c, line: tokLine, column: col)), line: tokLine, column: col)
        }
        pos += 1
        return TextToken(kind: .symbol(c), line: tokLine, column: col)
    }

    /// A number literal: digits, letters (hex, exponent, `f` suffix), dots, and a sign right
    /// after a decimal exponent. Validity is checked when the field type is known.
    private mutating func scanNumber() -> String {
        let start = pos
        let isHex = bytes[pos] == UInt8(ascii: "0") && pos + 1 < bytes.count
            && (bytes[pos + 1] == UInt8(ascii: "x") || bytes[pos + 1] == UInt8(ascii: "X"))
        while pos < bytes.count {
            let c = bytes[pos]
            if TextFormatTokenizer.isIdentChar(c) || c == UInt8(ascii: ".") {
                pos += 1
            } else if !isHex, c == UInt8(ascii: "+") || c == UInt8(ascii: "-"),
                      bytes[pos - 1] == UInt8(ascii: "e") || bytes[pos - 1] == UInt8(ascii: "E") {
                pos += 1
            } else {
                break
            }
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    private mutating func scanString(quote: UInt8, line tokLine: Int, column col: Int) throws(ConfigError) -> [UInt8] {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count, bytes[pos] != 0x0A else {
                throw error("unterminated string", line: tokLine, column: col)
            }
            let c = bytes[pos]
            pos += 1
            if c == quote { return out }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard pos < bytes.count else { throw error("unterminated string", line: tokLine, column: col) }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): out.append(e)
            case 0x30...0x37:
                var v = UInt32(e - 0x30)
                var n = 1
                while n < 3, pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x37 {
                    v = v * 8 + UInt32(bytes[pos] - 0x30); pos += 1; n += 1
                }
                guard v <= 0xFF else { throw error("octal escape out of range", line: line, column: pos - lineStart) }
                out.append(UInt8(v))
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                var v: UInt32 = 0
                var n = 0
                while n < 2, pos < bytes.count, let d = TextFormatTokenizer.hexValue(bytes[pos]) {
                    v = v * 16 + d; pos += 1; n += 1
                }
                guard n > 0 else { throw error("\\x escape without hex digits", line: line, column: pos - lineStart) }
                out.append(UInt8(v))
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = e == UInt8(ascii: "u") ? 4 : 8
                var v: UInt32 = 0
                for _ in 0..<count {
                    guard pos < bytes.count, let d = TextFormatTokenizer.hexValue(bytes[pos]) else {
                        throw error("invalid \\u escape", line: line, column: pos - lineStart + 1)
                    }
                    v = v * 16 + d; pos += 1
                }
                guard let u = Unicode.Scalar(v) else {
                    throw error("invalid unicode escape", line: line, column: pos - lineStart)
                }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in string", line: line, column: pos - lineStart - 1)
            }
        }
    }
}
