import Foundation
import SwiftProtobuf
import JSON

/// A loaded and validated EasyRec pipeline config, with a warning for every ignored field.
public struct PipelineConfig: Sendable, Equatable {
    /// The config message (EasyRec's names; proto2 defaults apply to unset fields).
    public var proto: EasyRec_EasyRecConfig
    /// Fields outside the supported subset, one per dotted path, in order of appearance.
    public var warnings: [ConfigWarning]

    /// Reads and validates a pipeline config file (protobuf text format).
    public static func load(path: String) throws(ConfigError) -> PipelineConfig {
        try load(text: try readText(path: path), source: path)
    }

    /// The config file's text; errors name the file.
    static func readText(path: String) throws(ConfigError) -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let s = String(data: data, encoding: .utf8) else {
                throw ConfigError(.io, path: "", reason: "file is not UTF-8 text", source: path)
            }
            return s
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError(.io, path: "", reason: "cannot read config: \(error.localizedDescription)", source: path)
        }
    }

    /// Parses and validates config text; `source` names it in errors and warnings.
    public static func load(text: String, source: String = "<text>") throws(ConfigError) -> PipelineConfig {
        let (proto, warnings, positions) = try decode(text: text, source: source)
        let config = PipelineConfig(unchecked: proto, warnings: warnings)
        do {
            try config.validate(source: source, positions: positions)
        } catch {
            // An ignored field is often the cause of a missing one (a typo): report them together.
            var combined = error
            combined.others += warnings.map(\.asProblem)
            throw combined
        }
        return config
    }

    /// Parse and validate without stopping at the first problem: the config (nil when it could
    /// not be parsed or is invalid), every problem, and the ignored fields (`odl check-config`).
    public static func check(path: String) -> (config: PipelineConfig?, problems: [ConfigError], warnings: [ConfigWarning]) {
        let decoded: (EasyRec_EasyRecConfig, [ConfigWarning], [String: TextPosition])
        do throws(ConfigError) {
            decoded = try decode(text: try readText(path: path), source: path)
        } catch {
            return (nil, [error], [])
        }
        let config = PipelineConfig(unchecked: decoded.0, warnings: decoded.1)
        let problems = config.problems(source: path, positions: decoded.2)
        return (problems.isEmpty ? config : nil, problems, decoded.1)
    }

    /// Wraps and validates a message built in code.
    public init(proto: EasyRec_EasyRecConfig) throws(ConfigError) {
        self.init(unchecked: proto, warnings: [])
        try validate()
    }

    init(unchecked proto: EasyRec_EasyRecConfig, warnings: [ConfigWarning]) {
        self.proto = proto
        self.warnings = warnings
    }

    /// The config as protobuf text format (what the exporter writes as pipeline.config).
    public func textFormat() -> String {
        proto.textFormatString()
    }

    /// Text -> schema-checked proto JSON -> message.
    static func decode(text: String, source: String) throws(ConfigError)
        -> (EasyRec_EasyRecConfig, [ConfigWarning], [String: TextPosition]) {
        let schema = try ConfigSchema.load()
        let fields = try TextFormatParser.parse(text, source: source)
        var walker = TextToJSON(schema: schema, source: source)
        let json = try walker.message(fields, typeName: ConfigSchema.rootName)
        let proto: EasyRec_EasyRecConfig = try decodeJSON(json, source: source, path: "")
        return (proto, walker.warnings, walker.positions)
    }

    /// SwiftProtobuf's JSON decoding of an already schema-checked tree.
    static func decodeJSON<M: SwiftProtobuf.Message>(_ json: JSONValue, source: String, path: String) throws(ConfigError) -> M {
        do {
            return try M(jsonString: json.serialized)
        } catch {
            throw ConfigError(.badValue, path: path, reason: "rejected by the protobuf decoder: \(error)", source: source)
        }
    }
}
