import FG
import Foundation
@testable import Processor

/// TensorFlow's own predictions for the fixture's requests (requests.json, tf_predictions.json)
/// and odl's, computed through the processor's scoring path (bypass mode, raw features).
struct TFParity {
    struct Request { let user: [String: Any]; let items: [[String: Any]] }
    let requests: [Request]
    let predictions: [String: Any]

    init() throws {
        let rq = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: EasyRecFixture.root + "/requests.json"))) as? [String: Any]
        let list = rq?["requests"] as? [[String: Any]] ?? []
        requests = list.map { Request(user: $0["user"] as? [String: Any] ?? [:], items: $0["items"] as? [[String: Any]] ?? []) }
        predictions = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: EasyRecFixture.root + "/tf_predictions.json"))) as? [String: Any] ?? [:]
    }

    /// TF's probs per request per item for `key` (`base_export`, `final_export`, or a path
    /// such as `checkpoint_steps/220`).
    func tfProbs(_ key: String) -> [[Double]]? {
        var node: Any? = predictions
        for part in key.split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
        return (node as? [String: Any])?["probs"] as? [[Double]]
    }

    static func value(_ v: Any) -> FeatureValue {
        if let s = v as? String { return .string(s) }
        if let n = v as? NSNumber { return .float(n.doubleValue) }
        return .strings([])
    }

    /// The FG request of one fixture request: user features broadcast, item features per item
    /// (an absent value is an empty list), item ids `item<k>`.
    static func fgRequest(_ r: Request) -> FGRequest {
        var user: [String: FeatureValue] = [:]
        for (k, v) in r.user { user[k] = value(v) }
        var names = Set<String>()
        for item in r.items { names.formUnion(item.keys) }
        var items: [String: [FeatureValue]] = [:]
        for name in names { items[name] = r.items.map { $0[name].map(value) ?? .strings([]) } }
        if items["item_id"] == nil { items["item_id"] = r.items.map { _ in .strings([]) } }
        return FGRequest(userFeatures: user, itemIds: r.items.indices.map { "item\($0)" }, itemFeatures: items)
    }

    /// odl's probs for every request with `scorer`.
    func odlProbs(_ scorer: ModelScorer) throws -> [[Double]] {
        try requests.map { r in
            let response = try scorer.score(Self.fgRequest(r))
            let probIndex = response.outputs.firstIndex(of: "probs") ?? 0
            return r.items.indices.map { response.results["item\($0)"]?.scores[probIndex] ?? .nan }
        }
    }

    /// Largest |odl - tf| over all items (infinite when shapes differ).
    static func maxDiff(_ a: [[Double]], _ b: [[Double]]) -> Double {
        guard a.count == b.count else { return .infinity }
        var worst = 0.0
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return .infinity }
            for (p, q) in zip(x, y) { worst = max(worst, p.isNaN ? .infinity : abs(p - q)) }
        }
        return worst
    }

    static func scorer(_ model: LoadedModel) throws -> ModelScorer {
        try ModelScorer(store: model.store, mode: model.mode, items: nil, outputs: [.probs, .logits],
                        limits: ServeLimits(), pool: nil)
    }
}
