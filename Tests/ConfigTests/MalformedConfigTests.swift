import Foundation
import Testing
@testable import Config

/// Bad configs give typed errors naming the field, with line and column.
@Suite struct MalformedConfigTests {
    func loadError(_ text: String) throws -> ConfigError {
        try #require(configError { _ = try PipelineConfig.load(text: text, source: "bad.config") })
    }

    @Test func badEnum() throws {
        let text = minimalConfig(extra: "data_config { input_type: KafkaInputX }")
            .replacingOccurrences(of: "data_config {\n  input_fields", with: "data_config_x {\n  input_fields")
        let e = try loadError(text)
        #expect(e.kind == .badValue && e.path == "data_config.input_type")
        #expect(e.reason.contains("KafkaInputX") && e.reason.contains("CSVInput"))
        #expect(e.line == 22 && e.column == 27)
        #expect(e.description.hasPrefix("bad.config:22:27: data_config.input_type:"))
    }

    /// DNN layers are relu (deepfm.md); another activation is an error naming the field, not a
    /// model served with different maths than it was trained with.
    @Test func onlyReluActivations() throws {
        for accepted in ["relu", "tf.nn.relu", "tf.keras.activations.relu"] {
            let text = minimalConfig().replacingOccurrences(of: "hidden_units: [8, 4]", with: "hidden_units: [8, 4] activation: '\(accepted)'")
            #expect(text != minimalConfig())
            #expect(try PipelineConfig.load(text: text).deepFM.dnn.activationName == "relu")
        }
        for rejected in ["tf.nn.sigmoid", "swish", "tf.nn.relu6", ""] {
            let text = minimalConfig().replacingOccurrences(of: "hidden_units: [8, 4]", with: "hidden_units: [8, 4] activation: '\(rejected)'")
            let e = try loadError(text)
            #expect(e.kind == .badValue && e.path == "model_config.deepfm.dnn.activation", "\(rejected): \(e)")
            #expect(e.reason.contains("relu"), "\(e)")
        }
    }

    @Test func badEnumInNestedRepeatedMessage() throws {
        let text = minimalConfig().replacingOccurrences(of: "wide_deep: WIDE", with: "wide_deep: WIDEST")
        let e = try loadError(text)
        #expect(e.path == "model_config.feature_groups[0].wide_deep" && e.line == 18)
    }

    @Test func wrongTypes() throws {
        let cases: [(String, String, String)] = [
            ("hash_bucket_size: 10 embedding_dim: 4", "hash_bucket_size: \"ten\" embedding_dim: 4", "feature_config.features[0].hash_bucket_size"),
            ("hash_bucket_size: 10 embedding_dim: 4", "hash_bucket_size: 10 embedding_dim: 4.5", "feature_config.features[0].embedding_dim"),
            ("hash_bucket_size: 10 embedding_dim: 4", "hash_bucket_size: -10 embedding_dim: 4", "feature_config.features[0].hash_bucket_size"),
            ("hidden_units: [8, 4]", "hidden_units: [8, four]", "model_config.deepfm.dnn.hidden_units"),
            ("hidden_units: [8, 4]", "hidden_units: [8, 4] use_bn: maybe", "model_config.deepfm.dnn.use_bn"),
            ("model_dir: \"m\"", "model_dir: m", "model_dir"),
            ("model_dir: \"m\"", "model_dir { }", "model_dir"),
            ("model_dir: \"m\"", "model_dir: [\"a\", \"b\"]", "model_dir"),
            ("model_dir: \"m\"", "train_config: 5", "train_config"),
            ("learning_rate: 0.001", "learning_rate: 0.001.5", "train_config.optimizer_config[0].adam_optimizer.learning_rate.constant_learning_rate.learning_rate"),
            ("learning_rate: 0.001", "learning_rate: 1e39", "train_config.optimizer_config[0].adam_optimizer.learning_rate.constant_learning_rate.learning_rate"),
        ]
        for (from, to, path) in cases {
            let text = minimalConfig().replacingOccurrences(of: from, with: to)
            #expect(text != minimalConfig(), "replacement \(from) did not apply")
            let e = try loadError(text)
            #expect(e.kind == .badValue, "\(to): \(e)")
            #expect(e.path == path, "\(to): \(e)")
            #expect(e.line != nil && e.column != nil, "\(to): \(e)")
        }
    }

    @Test func integerRanges() throws {
        let ok = try PipelineConfig.load(text: minimalConfig(train: "incr_save_config { kafka { server: 's' topic: 't' consumer { offset: 0x7fffffffffffffff } } }"))
        #expect(ok.proto.trainConfig.incrSaveConfig.kafka.consumer.offset == Int64.max)
        let e = try loadError(minimalConfig(train: "num_steps: 4294967296"))
        #expect(e.path == "train_config.num_steps" && e.reason.contains("out of range"))
        let e2 = try loadError(minimalConfig(train: "incr_save_config { dense_save_steps: 2147483648 }"))
        #expect(e2.path == "train_config.incr_save_config.dense_save_steps")
    }

    @Test func unterminatedBrace() throws {
        let text = minimalConfig().replacingOccurrences(of: "deepfm { dnn { hidden_units: [8, 4] } }", with: "deepfm { dnn { hidden_units: [8, 4] }")
        let e = try loadError(text)
        #expect(e.kind == .syntax)
        // deepfm's missing '}' is noticed when model_config (opened at line 16) never closes
        #expect(e.path == "model_config")
        #expect(e.reason.contains("unterminated") && e.reason.contains("line 16"))
        #expect(e.line != nil)
    }

    @Test func otherSyntaxErrors() throws {
        let e1 = try loadError("model_dir: 'abc\ntrain_config {}")
        #expect(e1.kind == .syntax && e1.line == 1 && e1.reason.contains("unterminated string"))
        let e2 = try loadError("model_dir \"abc\"")
        #expect(e2.kind == .syntax && e2.path == "model_dir" && e2.reason.contains("':'"))
        let e3 = try loadError("train_config { num_steps: [1, 2 }")
        #expect(e3.kind == .syntax && e3.path == "train_config.num_steps")
        let e4 = try loadError("}")
        #expect(e4.kind == .syntax && e4.line == 1 && e4.column == 1)
        let e5 = try loadError("model_dir: \"a\\qb\"")
        #expect(e5.kind == .syntax && e5.reason.contains("escape"))
    }

    @Test func unknownModelClass() throws {
        let e = try loadError(minimalConfig(modelClass: "WideAndDeep"))
        #expect(e.kind == .unsupported && e.path == "model_config.model_class")
        #expect(e.reason.contains("WideAndDeep") && e.reason.contains("DeepFM"))
        #expect(e.line == 17 && e.column == 3)
    }

    @Test func singularFieldTwice() throws {
        let e = try loadError(minimalConfig(extra: "model_dir: \"again\""))
        #expect(e.path == "model_dir" && e.reason.contains("more than once") && e.line == 22)
    }

    @Test func modelConsistency() throws {
        let missingFeature = minimalConfig().replacingOccurrences(of: "feature_names: \"b\" wide_deep: WIDE", with: "feature_names: \"zz\" wide_deep: WIDE")
        let e = try loadError(missingFeature)
        #expect(e.path == "model_config.feature_groups[0].feature_names" && e.reason.contains("zz") && e.line == 18)

        let noWide = minimalConfig().replacingOccurrences(of: "group_name: \"wide\"", with: "group_name: \"other\"")
        #expect(try loadError(noWide).reason.contains("\"wide\""))

        let dims = minimalConfig().replacingOccurrences(of: "hash_bucket_size: 20 embedding_dim: 4", with: "hash_bucket_size: 20 embedding_dim: 8")
        let e3 = try loadError(dims)
        #expect(e3.path == "model_config.feature_groups[1].feature_names" && e3.reason.contains("embedding_dim"))

        let wideDim = minimalConfig().replacingOccurrences(of: "deepfm { dnn", with: "deepfm { wide_output_dim: 4 dnn")
        #expect(try loadError(wideDim).path == "model_config.deepfm.wide_output_dim")

        let noBuckets = minimalConfig().replacingOccurrences(of: "hash_bucket_size: 10 ", with: "")
        let e5 = try loadError(noBuckets)
        #expect(e5.path == "feature_config.features[0]" && e5.line == 13 && e5.column == 3)

        let badInput = minimalConfig().replacingOccurrences(of: "features { input_names: \"a\"", with: "features { input_names: \"q\" feature_name: \"a\"")
        let e6 = try loadError(badInput)
        #expect(e6.path == "feature_config.features[0].input_names" && e6.reason.contains("\"q\""))

        let noDeepFM = minimalConfig().replacingOccurrences(of: "deepfm { dnn { hidden_units: [8, 4] } }", with: "")
        #expect(try loadError(noDeepFM).path == "model_config.deepfm")

        let badOffset = minimalConfig(extra: "kafka_train_input { server: 's' topic: 't' offset_info: '{\"zero\": 1}' }")
        let e8 = try loadError(badOffset)
        #expect(e8.path == "kafka_train_input.offset_info" && e8.line == 22)
    }

    @Test func missingFileIsAnIOError() throws {
        let e = try #require(configError { _ = try PipelineConfig.load(path: "/nonexistent/x.config") })
        #expect(e.kind == .io && e.source == "/nonexistent/x.config")
    }
}
