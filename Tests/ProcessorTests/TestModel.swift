import Export
import FG
import Foundation
import Inference
@testable import Processor

/// A small real DeepFM with an fg.json, deterministic parameters, and the same FG + forward
/// pipeline computed outside the processor for expected values.
struct TestModel {
    static let fgJSON = """
    {"features": [
      {"feature_type": "id_feature", "feature_name": "user_id", "expression": "user:user_id", "hash_bucket_size": 97, "embedding_dim": 4},
      {"feature_type": "id_feature", "feature_name": "item_id", "expression": "item:item_id", "hash_bucket_size": 89, "embedding_dim": 4},
      {"feature_type": "id_feature", "feature_name": "category", "expression": "item:category", "hash_bucket_size": 31, "embedding_dim": 4},
      {"feature_type": "raw_feature", "feature_name": "price", "expression": "item:price", "boundaries": [1, 5, 10, 50], "embedding_dim": 4},
      {"feature_type": "id_feature", "feature_name": "tags", "expression": "user:tags", "hash_bucket_size": 53, "embedding_dim": 4, "is_multi": true}
    ]}
    """

    let spec: ModelSpec
    let parameters: ModelParameters
    let plan: FGPlan
    let encoder: ColumnEncoder

    init(seed: UInt64 = 7) throws {
        let config = try FGConfig(jsonString: Self.fgJSON)
        let columns = try config.columnSpecs()
        let all = Array(columns.indices)
        spec = try ModelSpec.make(columns: columns, wideFeatures: all, deepFeatures: all, dnnHidden: [8, 4],
                                  finalDnnHidden: nil)
        parameters = Self.randomParameters(spec, seed: seed)
        plan = FGPlan(config: config)
        encoder = try ColumnEncoder(specs: spec.columns, layout: plan.outputNames)
    }

    static func randomParameters(_ spec: ModelSpec, seed: UInt64) -> ModelParameters {
        var rng = SplitMix(seed)
        let dense = spec.denseVariables.map { v -> [Float] in
            if v.name.hasSuffix("moving_variance") || v.name.hasSuffix("gamma") {
                return (0..<v.elementCount).map { _ in 0.5 + rng.unit() }
            }
            return (0..<v.elementCount).map { _ in rng.unit() - 0.5 }
        }
        let tables = spec.embeddings.map { e -> EmbeddingTableValues in
            if let rows = e.rows {
                return .fixed(rows: rows, dim: e.dim, values: (0..<(rows * e.dim)).map { _ in rng.unit() - 0.5 })
            }
            return .keyValue(dim: e.dim, keys: [], values: [])
        }
        return ModelParameters(dense: dense, tables: tables)
    }

    func loaded(dir: String = "/nonexistent/test-model/1700000000") throws -> LoadedModel {
        let store = try ParameterStore(spec: spec, parameters: parameters)
        let manifest = ExportManifest(
            versionDir: dir, pipelineConfig: "", fgJSON: Self.fgJSON,
            denseVariableIds: Dictionary(uniqueKeysWithValues: spec.denseVariables.map { ($0.name, $0.id) }),
            embeddingIds: Dictionary(uniqueKeysWithValues: spec.embeddings.map { ($0.name, $0.id) }))
        return LoadedModel(versionDir: dir, manifest: manifest, store: store, mode: .fg(plan))
    }

    /// Expected (logits, probs) of `request` under `parameters`, computed without the processor.
    func expected(_ request: FGRequest, parameters: ModelParameters? = nil) throws -> (logits: [Float], probs: [Float]) {
        var batch = plan.makeBatch()
        try plan.evaluate(request, into: &batch)
        var encoded = EncodedBatch(columnCount: spec.columns.count)
        try encoder.encode(batch, into: &encoded)
        return try DeepFMPredictor(spec: spec).predict(batch: encoded, parameters: parameters ?? self.parameters)
    }
}

/// Deterministic random numbers for fixtures.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
