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
