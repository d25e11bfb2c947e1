import Foundation
@testable import Config

/// Path of a file under Tests/ConfigTests/Fixtures.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/Config/\(name)").path
}

let utc = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0)!

/// A small valid DeepFM config; `extra` is appended at top level, `train` inside train_config.
func minimalConfig(train: String = "", extra: String = "", modelClass: String = "DeepFM") -> String {
    """
    model_dir: "m"
    train_config {
      optimizer_config { adam_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.001 } } } }
      \(train)
    }
    data_config {
      input_fields { input_name: "label" input_type: INT32 }
      input_fields { input_name: "a" }
      input_fields { input_name: "b" }
      label_fields: "label"
    }
    feature_config {
      features { input_names: "a" hash_bucket_size: 10 embedding_dim: 4 }
      features { input_names: "b" hash_bucket_size: 20 embedding_dim: 4 }
    }
    model_config {
      model_class: "\(modelClass)"
      feature_groups { group_name: "wide" feature_names: "a" feature_names: "b" wide_deep: WIDE }
      feature_groups { group_name: "deep" feature_names: "a" feature_names: "b" }
      deepfm { dnn { hidden_units: [8, 4] } }
    }
    \(extra)
    """
}

/// Runs `body` and returns the ConfigError it throws (nil when it does not throw or throws
/// another error type, which the caller's #require then reports).
func configError(_ body: () throws -> Void) -> ConfigError? {
    do {
        try body()
        return nil
    } catch let e as ConfigError {
        return e
    } catch {
        return nil
    }
}
