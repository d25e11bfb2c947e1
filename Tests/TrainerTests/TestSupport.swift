import FG
import Foundation
import Inference
@testable import Trainer

/// A fresh temporary directory for one test.
func makeTempDir(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "odl-trainer-\(clean)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A hand-built two-feature spec: one fixed table per part for `a`, a key-value deep table for `b`,
/// and three dense variables.
func tinySpec() -> ModelSpec {
    let a = FeatureColumnSpec(name: "a", inputNames: ["a"], kind: .hashed(bucketSize: 5), embeddingDim: 2)
    let b = FeatureColumnSpec(name: "b", inputNames: ["b"], kind: .keyValue, embeddingDim: 2)
    return ModelSpec(columns: [a, b], wideFeatures: [0], deepFeatures: [0, 1],
                     embeddings: [
                        EmbeddingSpec(id: 0, name: "input_layer/a_embedding", dim: 1, rows: 5, part: .wide, column: 0),
                        EmbeddingSpec(id: 1, name: "input_layer_1/a_embedding", dim: 2, rows: 5, part: .deep, column: 0),
                        EmbeddingSpec(id: 2, name: "input_layer_1/b_embedding", dim: 2, rows: nil, part: .deep, column: 1),
                     ],
                     denseVariables: [
                        DenseVariableSpec(id: 0, name: "deep_feature/dnn_0/kernel", shape: [4, 3]),
                        DenseVariableSpec(id: 1, name: "deep_feature/dnn_0/bias", shape: [3]),
                        DenseVariableSpec(id: 2, name: "deep_logits/kernel", shape: [3, 1]),
                     ],
                     wideOutputDim: 1, embeddingDim: 2, dnnHidden: [3], finalDnnHidden: nil)
}

func tinyParameters(seed: Float = 1) -> ModelParameters {
    ModelParameters(dense: [(0..<12).map { Float($0) * seed }, [0.5, -1, 2], [1, 2, 3].map { $0 * seed }],
                    tables: [.fixed(rows: 5, dim: 1, values: (0..<5).map { Float($0) / 7 }),
                             .fixed(rows: 5, dim: 2, values: (0..<10).map { Float($0) * 0.25 * seed }),
                             .keyValue(dim: 2, keys: [42, -7, 9_000_000_000], values: [1, 2, 3, 4, 5, 6])])
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// A small bypass-mode DeepFM config streaming from `samples` and sending updates to `updates`.
func tinyConfig(bootstrap: String, samples: String, updates: String?, modelDir: String, checkpointSteps: Int = 5,
                batchSize: Int = 8, numSteps: Int = 0) -> String {
    let incr = updates.map { """
      incr_save_config {
        dense_save_steps: 2
        sparse_save_steps: 3
        kafka { server: '\(bootstrap)' topic: '\($0)' consumer { offset: 0 } }
      }
    """ } ?? ""
    return """
    kafka_train_input { server: '\(bootstrap)' topic: '\(samples)' group: 'odl-test-\(UUID().uuidString.prefix(6))' }
    model_dir: '\(modelDir)'
    train_config {
      optimizer_config { adam_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.01 } } } }
      num_steps: \(numSteps)
      save_checkpoints_steps: \(checkpointSteps)
      keep_checkpoint_max: 100
      log_step_count_steps: 5
    \(incr)
    }
    data_config {
      batch_size: \(batchSize)
      input_fields { input_name: 'label' input_type: INT64 default_val: '0' }
      input_fields { input_name: 'user' input_type: STRING }
      input_fields { input_name: 'item' input_type: STRING }
      input_fields { input_name: 'price' input_type: DOUBLE default_val: '0' }
      label_fields: 'label'
      input_type: KafkaInput
    }
    feature_config {
      features { input_names: 'user' feature_type: IdFeature embedding_dim: 4 hash_bucket_size: 50 }
      features { input_names: 'item' feature_type: IdFeature embedding_dim: 4 hash_bucket_size: 30 }
      features { input_names: 'price' feature_type: RawFeature boundaries: [1, 2, 5] embedding_dim: 4 }
    }
    model_config {
      model_class: 'DeepFM'
      feature_groups { group_name: 'wide' feature_names: 'user' feature_names: 'item' wide_deep: WIDE }
      feature_groups { group_name: 'deep' feature_names: 'user' feature_names: 'item' feature_names: 'price' wide_deep: DEEP }
      deepfm { dnn { hidden_units: [8, 4] } l2_regularization: 1e-5 }
      embedding_regularization: 1e-7
    }
    """
}

/// `n` sample lines `label,user,item,price`; every 13th is malformed when `withBad`.
func tinySamples(_ n: Int, withBad: Bool = false) -> [String] {
    (0..<n).map { i in
        if withBad, i % 13 == 12 { return "1,u\(i),broken" }
        return "\((i * 7 + i / 3) % 2),u\(i % 37),i\(i % 23),\(Double(i % 9) * 0.75)"
    }
}
