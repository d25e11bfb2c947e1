import Foundation
import FG
@testable import Inference

/// Loads the NumPy-written fixtures (scripts/deepfm_reference.py).
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Inference").path

    struct Case {
        let dir: String
        let spec: ModelSpec
        let batch: EncodedBatch
        let logits: [Double]
        let probs: [Double]
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NSError(domain: "fixture", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path) is not an object"])
        }
        return o
    }

    static func load(_ name: String) throws -> Case {
        let dir = root + "/" + name
        let model = try json(dir + "/model.json")
        var columns: [FeatureColumnSpec] = []
        for case let c as [String: Any] in model["columns"] as? [Any] ?? [] {
            let name = c["name"] as? String ?? ""
            let size = c["size"] as? Int
            let kind: FeatureColumnSpec.Kind
            switch c["kind"] as? String {
            case "hashed": kind = .hashed(bucketSize: size ?? 0)
            case "keyValue": kind = .keyValue
            case "boundaries": kind = .boundaries((c["boundaries"] as? [Double]) ?? [])
            case "identity": kind = .identity(numBuckets: size ?? 0)
            case "raw": kind = .raw(dimension: size ?? 0)
            default: kind = .keyValue
            }
            let combiner = FeatureColumnSpec.Combiner(rawValue: c["combiner"] as? String ?? "sum") ?? .sum
            columns.append(FeatureColumnSpec(name: name, inputNames: [name], kind: kind, embeddingDim: c["dim"] as? Int ?? 0,
                                             combiner: combiner, embeddingName: c["embedding_name"] as? String))
        }
        let spec = try ModelSpec.make(columns: columns, wideFeatures: model["wide"] as? [Int] ?? [],
                                      deepFeatures: model["deep"] as? [Int] ?? [],
                                      wideOutputDim: model["wide_output_dim"] as? Int ?? 1,
                                      dnnHidden: model["dnn"] as? [Int] ?? [], finalDnnHidden: model["final_dnn"] as? [Int],
                                      dnnUseBN: model["dnn_bn"] as? Bool ?? true, finalDnnUseBN: model["final_bn"] as? Bool ?? true)
        let b = try json(dir + "/batch.json")
        var batch = EncodedBatch(columnCount: columns.count)
        batch.batchSize = b["batch_size"] as? Int ?? 0
        for (i, item) in (b["columns"] as? [Any] ?? []).enumerated() {
            guard let c = item as? [String: Any] else { continue }
            batch.columns[i].offsets = (c["offsets"] as? [Int] ?? []).map { Int32($0) }
            batch.columns[i].ids = (c["ids"] as? [NSNumber] ?? []).map { $0.int64Value }
            batch.columns[i].weights = (c["weights"] as? [Double] ?? []).map { Float($0) }
        }
        let e = try json(dir + "/expected.json")
        return Case(dir: dir, spec: spec, batch: batch, logits: e["logits"] as? [Double] ?? [], probs: e["probs"] as? [Double] ?? [])
    }
}

/// A temporary folder removed at deinit.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "odl-inference-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
