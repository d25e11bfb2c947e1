/// Syntax tree of protobuf text format, before any schema is applied.

/// One scalar token of a field value, with its position.
struct TextScalar: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// A bare word: enum value name, true/false, inf, nan. `negative` when written `-word`.
        case identifier(String, negative: Bool)
        /// A number literal as written, including a leading `-` when negative.
        case number(String)
        /// A quoted string (adjacent strings concatenated), as raw bytes after unescaping.
        case string([UInt8])
    }
    var kind: Kind
    var line: Int
    var column: Int

    /// The token as written, for messages.
    var display: String {
        switch kind {
        case .identifier(let s, let negative): return (negative ? "-" : "") + s
        case .number(let s): return s
        case .string(let b): return "\"" + String(decoding: b, as: UTF8.self) + "\""
        }
    }
}

/// The value of one field occurrence.
indirect enum TextValue: Equatable, Sendable {
    case scalar(TextScalar)
    case message([TextField], line: Int, column: Int)
    /// `[a, b, ...]`: scalars or messages.
    case list([TextValue], line: Int, column: Int)
}

/// One `name: value` occurrence.
struct TextField: Equatable, Sendable {
    /// The field name; for `[ext.name]` or `[type.googleapis.com/T]` the bracketed text.
    var name: String
    var isExtension: Bool
    var line: Int
    var column: Int
    var value: TextValue
}
