import ArgumentParser
import Bench
import FG
import Foundation
import JSON

/// `odl fg`: run feature generation (fg.json) on a predict request given in JSON form and print
/// each item's outputs (JSON) or its training-sample line.
struct FGCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fg",
        abstract: "Run feature generation on a predict request (JSON form) and print the outputs.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, sample
    }

    @Option(name: .customLong("fg-json"), help: "The fg.json file.")
    var fgJSON: String?

    @Option(help: "The request file ('-' for stdin): predict API JSON ({\"user_features\": ..., \"item_ids\": ..., \"context_features\": ...}).")
    var request: String?

    @Option(help: "Output: json (per item, each feature's outputs) or sample (the training-sample line per item).")
    var format: Format = .json

    @Flag(help: .hidden)
    var bench = false

    @Option(help: .hidden)
    var iterations = 300

    func run() throws {
        if bench {
            if let fgJSON, let request, let body = FileManager.default.contents(atPath: request) {
                let config = try FGConfig.load(path: fgJSON)
                print(FGBenchmark.run(iterations: iterations, config: config, request: try FGRequest.parseJSON([UInt8](body))))
            } else {
                print(FGBenchmark.run(iterations: iterations))
            }
            return
        }
        guard let fgJSON else { throw ValidationError("--fg-json is required") }
        guard let request else { throw ValidationError("--request is required") }
        let config = try FGConfig.load(path: fgJSON)
        let data = request == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: request)
        guard let body = data else { throw FGError.io(path: request, reason: "cannot read file") }
        let req = try FGRequest.parseJSON([UInt8](body))
        let plan = FGPlan(config: config)
        var batch = plan.makeBatch()
        try plan.evaluate(req, into: &batch)
        for (i, id) in req.itemIds.enumerated() {
            switch format {
            case .json:
                print("{\"item_id\":\(JSONText.quote(id)),\"features\":\(batch.renderJSON(item: i))}")
            case .sample:
                // The sample line keeps its control separators (\u{02}, \u{03}): they are the format.
                print(batch.renderSample(item: i))
            }
        }
    }
}
