import ArgumentParser
import Foundation
import Logging

/// `--log-format`: swift-log's plain text lines, or one JSON object per line.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json

    /// Install the format process-wide (once, before the first logger is made); text is swift-log's default.
    func bootstrap() {
        if self == .json { LoggingSystem.bootstrap { JSONLogHandler(label: $0) } }
    }
}

/// Structured logs on stderr: `{"ts":"...","level":"info","logger":"odl.serve","message":"...",<metadata>}`,
/// one object per line; metadata keys become top-level fields (never overriding the four above).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        FileHandle.standardError.write(Data((Self.render(event: event, label: label, metadata: metadata,
                                                         provider: metadataProvider) + "\n").utf8))
    }

    /// One log line (no newline).
    static func render(event: LogEvent, label: String, metadata: Logger.Metadata,
                       provider: Logger.MetadataProvider?, date: Date = Date()) -> String {
        var object: [String: Any] = [:]
        var all = metadata
        if let provided = provider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        for (key, value) in all { object[key] = json(value) }
        object["ts"] = ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC") ?? .current,
                                                   formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        object["level"] = event.level.rawValue
        object["logger"] = label
        object["message"] = event.message.description
        if let source = event.source.isEmpty ? nil : event.source { object["source"] = source }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"level":"error","message":"log line could not be encoded as JSON"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return a.map(json)
        case .dictionary(let d): return d.mapValues(json)
        }
    }
}
