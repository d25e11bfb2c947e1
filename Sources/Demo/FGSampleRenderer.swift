import FG

/// Renders training samples through FG: the predict request's raw features go through the
/// same fg.json evaluation the processor runs, so trainer and processor see the same features.
/// A sample line is `label` then the FG outputs in fg.json order, joined by `separator`
/// (multi-values inside one output stay joined by `\x03`).
struct FGSampleRenderer: Sendable {
    let plan: FGPlan
    let separator: String

    init(fgJSONPath: String, separator: String = ",") throws {
        let config = try FGConfig.load(path: fgJSONPath)
        plan = FGPlan(config: config)
        self.separator = separator
    }

    /// FG output names, in sample order (after the label).
    var outputNames: [String] { plan.outputNames }

    /// One sample line per item of the page (FG fed ``PageFeatures/fgRequest()``, which equals
    /// the parsed predict request).
    func sampleLines(_ page: PageFeatures, labels: [Int]) throws -> [String] {
        try sampleLines(page.fgRequest(), labels: labels)
    }

    /// One sample line per item of an FG request.
    func sampleLines(_ request: FGRequest, labels: [Int]) throws -> [String] {
        let rendered = try plan.renderSamples(request)
        guard rendered.count == labels.count else {
            throw WorldError.badConfig(field: "fg", reason: "FG produced \(rendered.count) items for \(labels.count) labels")
        }
        return (0..<labels.count).map { item in
            let fields = rendered[item]
            let joined = separator == "\u{02}" ? fields : fields.replacingOccurrences(of: "\u{02}", with: separator)
            return "\(labels[item])\(separator)\(joined)"
        }
    }
}

import Foundation
