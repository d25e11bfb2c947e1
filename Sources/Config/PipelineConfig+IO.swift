import Foundation

/// Convenience entry points for the CLI and the exporter.
extension PipelineConfig {
    /// Loads `path`, then applies `editConfigJSON` (the `--edit-config-json` argument) when given.
    public static func load(path: String, editConfigJSON: String?) throws(ConfigError) -> PipelineConfig {
        var c = try load(path: path)
        if let edits = editConfigJSON, !edits.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try c.applyEdits(json: edits)
        }
        return c
    }

    /// Writes `textFormat()` to `path` (temporary file, then rename).
    public func write(path: String) throws(ConfigError) {
        let tmp = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try Data(textFormat().utf8).write(to: URL(fileURLWithPath: tmp))
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw ConfigError(.io, path: "", reason: "cannot write config: \(error.localizedDescription)", source: path)
        }
        // rename(2) replaces an existing file atomically.
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw ConfigError(.io, path: "", reason: "cannot write config: \(reason)", source: path)
        }
    }

    /// Replaces the features with `features`, all in `feature_config.features` (old-style
    /// `feature_configs` cleared), e.g. the exporter's complete list derived from fg.json.
    /// Call `validate()` afterwards to check them against the feature groups.
    public mutating func setFeatureConfigs(_ features: [EasyRec_FeatureConfig]) {
        proto.featureConfigs = []
        proto.featureConfig.features = features
    }
}

extension EasyRec_KafkaServer {
    /// `config_global` then `config_topic` entries as librdkafka properties ("key=value";
    /// the value may contain '='). An entry without '=' or with an empty key is an error.
    public func librdkafkaProperties() throws(ConfigError) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        for (field, entries) in [("config_global", configGlobal), ("config_topic", configTopic)] {
            for entry in entries {
                guard let eq = entry.firstIndex(of: "=") else {
                    throw ConfigError(.badValue, path: field, reason: "\"\(entry)\" is not key=value")
                }
                let key = entry[..<eq].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else {
                    throw ConfigError(.badValue, path: field, reason: "\"\(entry)\" has an empty key")
                }
                out.append((key, entry[entry.index(after: eq)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }
}
