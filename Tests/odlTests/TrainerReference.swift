import FG
import Foundation
import Logging
import Trainer
@testable import Demo

/// The trainer's own predictions: the latest checkpoint of `modelDir` loaded into the
/// trainer's model, fed the FG-rendered sample lines of the same items the requests score.
enum TrainerReference {
    static func probs(config: String, modelDir: String, requests: [TodayRequest]) throws -> [Double] {
        let tc = try TrainerConfig.load(path: config, edits: nil, modelDir: modelDir, logger: Logger(label: "e2e-reference"))
        guard let ref = CheckpointStore(directory: modelDir).latest() else {
            throw E2EError("no checkpoint in \(modelDir)")
        }
        let contents = try CheckpointStore.read(ref, spec: tc.spec)
        let model = try TrainableDeepFM(spec: tc.spec, parameters: contents.parameters,
                                        optimizer: OptimizerSettings(kind: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
                                                                     learningRate: .constant(0)))
        var parser = SampleParser(schema: tc.layout)
        var lines: [[UInt8]] = []
        for r in requests {
            for l in r.samples {
                try parser.parse(l)
                lines.append(parser.line)
            }
        }
        var batch = EncodedBatch(columnCount: tc.spec.columns.count)
        try tc.encoder.encode(lines: lines, into: &batch)
        return model.predict(batch: batch).map(Double.init)
    }
}
