/// Parses protobuf text format into `TextField`s without a schema: `name: value`,
/// `name { ... }`, `name: { ... }`, `name < ... >`, lists `[a, b]` (of scalars or messages),
/// strings in ' or " (adjacent ones concatenated), `#` comments, optional `,`/`;` separators.
struct TextFormatParser {
    private var tokenizer: TextFormatTokenizer
    private var current: TextToken
    private let source: String
    /// Field names of the enclosing messages, for error paths.
    private var stack: [String] = []

    static func parse(_ text: String, source: String) throws(ConfigError) -> [TextField] {
        var p = try TextFormatParser(text: text, source: source)
        return try p.body(closing: nil, openLine: 0, openColumn: 0)
    }

    private init(text: String, source: String) throws(ConfigError) {
        tokenizer = TextFormatTokenizer(text: text, source: source)
        self.source = source
        current = try tokenizer.next()
    }

    private mutating func advance() throws(ConfigError) { current = try tokenizer.next() }

    private func isSymbol(_ c: Character) -> Bool {
        if case .symbol(let s) = current.kind, let a = c.asciiValue { return s == a }
        return false
    }

    private var path: String { stack.joined(separator: ".") }

    private func error(_ reason: String, at token: TextToken? = nil, field: String? = nil) -> ConfigError {
        let t = token ?? current
        var p = path
        if let field { p = p.isEmpty ? field : p + "." + field }
        return ConfigError(.syntax, path: p, line: t.line, column: t.column, reason: reason, source: source)
    }

    private func describe(_ t: TextToken) -> String {
        switch t.kind {
        case .identifier(let s): return "'\(s)'"
        case .number(let s): return "'\(s)'"
        case .string: return "a string"
        case .symbol(let c): return "'\(Character(Unicode.Scalar(c)))'"
        case .end: return "end of input"
        }
    }

    /// Fields up to `closing` (or the end of input when nil).
    private mutating func body(closing: UInt8?, openLine: Int, openColumn: Int) throws(ConfigError) -> [TextField] {
        var fields: [TextField] = []
        while true {
            if case .end = current.kind {
                if let closing {
                    throw error("unterminated message: '\(Character(Unicode.Scalar(closing)))' missing for the block opened at line \(openLine):\(openColumn)")
                }
                return fields
            }
            if let closing, case .symbol(let s) = current.kind, s == closing {
                try advance()
                return fields
            }
            fields.append(try field())
        }
    }

    private mutating func field() throws(ConfigError) -> TextField {
        let start = current
        var name: String
        var isExtension = false
        switch current.kind {
        case .identifier(let s):
            name = s
            try advance()
        case .symbol(UInt8(ascii: "[")):
            // [extension.name] or [type.url/Message]
            isExtension = true
            try advance()
            name = ""
            while !isSymbol("]") {
                switch current.kind {
                case .identifier(let s): name += s
                case .symbol(UInt8(ascii: ".")): name += "."
                case .symbol(UInt8(ascii: "/")): name += "/"
                default: throw error("invalid extension name, found \(describe(current))")
                }
                try advance()
            }
            try advance()
            name = "[" + name + "]"
        default:
            throw error("expected a field name, found \(describe(current))")
        }
        stack.append(name)
        defer { stack.removeLast() }
        var hadColon = false
        if isSymbol(":") { hadColon = true; try advance() }
        let value: TextValue
        if isSymbol("{") || isSymbol("<") {
            value = try message()
        } else if isSymbol("[") {
            value = try list()
        } else {
            guard hadColon else { throw error("expected ':' or '{' after the field name, found \(describe(current))") }
            value = .scalar(try scalar())
        }
        if isSymbol(",") || isSymbol(";") { try advance() }
        return TextField(name: name, isExtension: isExtension, line: start.line, column: start.column, value: value)
    }

    /// Deepest message nesting accepted (EasyRec configs use < 10; protobuf's own limit is 100).
    static let maxDepth = 100

    private mutating func message() throws(ConfigError) -> TextValue {
        let open = current
        guard stack.count <= TextFormatParser.maxDepth else {
            throw error("messages nested deeper than \(TextFormatParser.maxDepth) levels")
        }
        let closing: UInt8 = isSymbol("{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
        try advance()
        let fields = try body(closing: closing, openLine: open.line, openColumn: open.column)
        return .message(fields, line: open.line, column: open.column)
    }

    private mutating func list() throws(ConfigError) -> TextValue {
        let open = current
        try advance()
        var items: [TextValue] = []
        if isSymbol("]") { try advance(); return .list(items, line: open.line, column: open.column) }
        while true {
            if isSymbol("{") || isSymbol("<") {
                items.append(try message())
            } else {
                items.append(.scalar(try scalar()))
            }
            if isSymbol(",") { try advance(); continue }
            if isSymbol("]") { try advance(); return .list(items, line: open.line, column: open.column) }
            if case .end = current.kind {
                throw error("unterminated list opened at line \(open.line):\(open.column)")
            }
            throw error("expected ',' or ']' in list, found \(describe(current))")
        }
    }

    private mutating func scalar() throws(ConfigError) -> TextScalar {
        let start = current
        switch current.kind {
        case .symbol(UInt8(ascii: "-")):
            try advance()
            switch current.kind {
            case .number(let n):
                try advance()
                return TextScalar(kind: .number("-" + n), line: start.line, column: start.column)
            case .identifier(let s):
                try advance()
                return TextScalar(kind: .identifier(s, negative: true), line: start.line, column: start.column)
            default:
                throw error("expected a number after '-', found \(describe(current))")
            }
        case .number(let n):
            try advance()
            return TextScalar(kind: .number(n), line: start.line, column: start.column)
        case .identifier(let s):
            try advance()
            return TextScalar(kind: .identifier(s, negative: false), line: start.line, column: start.column)
        case .string(let b):
            var bytes = b
            try advance()
            while case .string(let more) = current.kind {
                bytes += more
                try advance()
            }
            return TextScalar(kind: .string(bytes), line: start.line, column: start.column)
        default:
            throw error("expected a value, found \(describe(current))")
        }
    }
}
