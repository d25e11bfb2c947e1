import Foundation

/// An error loading, editing or validating a pipeline config; names the field and, for
/// text input, the line and column.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be read.
        case io
        /// The text is not protobuf text format (or the JSON is not JSON).
        case syntax
        /// A supported field has a value of the wrong type or out of range.
        case badValue
        /// An edit path names no field.
        case unknownField
        /// The config is well-formed but inconsistent (missing group, unknown feature...).
        case invalid
        /// The config asks for something odl does not implement (a model other than DeepFM).
        case unsupported
    }

    public var kind: Kind
    /// Dotted field path, e.g. `model_config.deepfm.dnn.hidden_units` (empty when unknown).
    public var path: String
    public var line: Int?
    public var column: Int?
    public var reason: String
    /// File name or `<text>` / `edit_config_json`.
    public var source: String
    /// The config's other problems (validation reports them all at once), and its ignored fields.
    public var others: [ConfigError] = []

    public init(_ kind: Kind, path: String, line: Int? = nil, column: Int? = nil,
                reason: String, source: String = "") {
        self.kind = kind
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        self.source = source
    }

    public var description: String {
        var s = source.isEmpty ? "" : source
        if let line {
            s += s.isEmpty ? "line \(line)" : ":\(line)"
            if let column { s += ":\(column)" }
        }
        if !s.isEmpty { s += ": " }
        if !path.isEmpty { s += "\(path): " }
        return s + reason + others.map { "\n  also: " + $0.description }.joined()
    }

    /// This problem and the others, one per element.
    public var all: [ConfigError] {
        var first = self
        first.others = []
        return [first] + others
    }
}

/// A field outside the supported subset: it was ignored. Reported once per field path.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the ignored field, e.g. `train_config.sync_replicas`.
    public var path: String
    /// Position of its first occurrence.
    public var line: Int
    public var column: Int
    public var source: String

    public init(path: String, line: Int, column: Int, source: String) {
        self.path = path
        self.line = line
        self.column = column
        self.source = source
    }

    public var description: String {
        "\(source):\(line):\(column): unsupported field \(path) ignored"
    }

    /// The warning as a problem, for reports that list everything wrong with a config.
    public var asProblem: ConfigError {
        ConfigError(.unknownField, path: path, line: line, column: column,
                    reason: "not a field odl reads (unsupported, or a typo): ignored", source: source)
    }
}
