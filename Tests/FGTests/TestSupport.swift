import Foundation
@testable import FG

/// Helpers shared by the FG tests.
enum T {
    static let compatDir = "/work/shared/compat/easyrec-samples"

    static func compatFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: compatDir)) ?? []
        return names.filter { $0.hasPrefix("fg") && $0.hasSuffix(".json") }.sorted().map { compatDir + "/" + $0 }
    }

    /// Evaluate a one-feature (or more) config on a request and return the batch.
    static func run(_ json: String, _ request: FGRequest, limits: FGLimits = FGLimits()) throws -> FeatureBatch {
        let plan = FGPlan(config: try FGConfig(jsonString: json), limits: limits)
        var batch = plan.makeBatch()
        try plan.evaluate(request, into: &batch)
        return batch
    }

    /// Outputs of slot 0 for every item.
    static func outputs(_ featureJSON: String, user: [String: FeatureValue] = [:], items: [String: [FeatureValue]] = [:],
                        itemCount: Int = 1, limits: FGLimits = FGLimits()) throws -> [[String]] {
        let req = FGRequest(userFeatures: user, itemIds: (0..<itemCount).map { "i\($0)" }, itemFeatures: items)
        let b = try run("{\"features\": [\(featureJSON)]}", req, limits: limits)
        return (0..<itemCount).map { b.strings(slot: 0, item: $0) }
    }

    /// A request covering every input a config reads: user inputs, item inputs (varying per item),
    /// map-shaped values for lookups, two-level maps for matches, sequences.
    static func generatedRequest(for config: FGConfig, items: Int) -> FGRequest {
        var user: [String: FeatureValue] = [:]
        var item: [String: [FeatureValue]] = [:]
        for f in config.features {
            for (k, input) in (f.inputs + (f.matchCategory.map { [$0] } ?? [])).enumerated() {
                let isMap = (f.type == .lookup && k == 0) || (f.type == .match && k == 0)
                func value(_ i: Int) -> FeatureValue {
                    if f.type == .match && k == 0 { return .string("c\(i % 3)^k1:1.5,k2:2|c1^k\(i):3") }
                    if isMap { return .string((0..<5).map { "v\($0):\($0 + i)" }.joined(separator: "\u{1d}")) }
                    if f.type == .raw { return .float(Double(i) * 1.5 + 0.25) }
                    return i % 2 == 0 ? .string("v\(i % 5)\u{1d}v\(i % 3)") : .int(Int64(i % 5))
                }
                switch input.side {
                case .user: user[input.field] = value(7)
                case .item, .context: item[input.field] = (0..<items).map(value)
                }
            }
            if let seq = f.sequence {
                user[seq.column] = .string("a;b;c")
                user[seq.name + "__" + (f.inputs.first?.field ?? "")] = .string("x1;x2;x3")
            }
        }
        return FGRequest(userFeatures: user, itemIds: (0..<items).map { "item\($0)" }, itemFeatures: item)
    }
}
