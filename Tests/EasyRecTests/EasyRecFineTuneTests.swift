import Config
import EasyRec
import Foundation
import Inference
import Logging
import Trainer
import XCTest

/// `odl train` with EasyRec's own training checkpoint as `fine_tune_checkpoint`.
final class EasyRecFineTuneTests: XCTestCase {
    /// The checkpoint's parameters load into odl's trainer spec (feature_names order, odl's ids)
    /// and match the export's parameters read for the export's spec, name by name.
    func testCheckpointLoadsIntoTheTrainerSpec() throws {
        let export = try EasyRecExport(directory: EasyRecFixture.baseExport)
        let trainerSpec = try ModelSpec(config: try PipelineConfig.load(path: EasyRecFixture.baseExport + "/assets/pipeline.config"))
        let checkpoint = try EasyRecCheckpoint(prefix: EasyRecFixture.checkpoint200, spec: trainerSpec)
        XCTAssertEqual(checkpoint.globalStep, 200)
        for v in trainerSpec.denseVariables where v.name != "deep_feature/dnn_0/kernel" {
            let exportId = try XCTUnwrap(export.spec.denseVariableId(named: v.name))
            XCTAssertEqual(checkpoint.parameters.dense[v.id], export.parameters.dense[exportId], v.name)
        }
        for e in trainerSpec.embeddings {
            let exportId = try XCTUnwrap(export.spec.embeddingId(named: e.name))
            XCTAssertEqual(checkpoint.parameters.tables[e.id], export.parameters.tables[exportId], e.name)
        }
        // Adam slots of every trainable variable and the beta powers come along under odl's names.
        XCTAssertNotNil(checkpoint.slots["input_layer_1/user_id_embedding/Adam"])
        XCTAssertNotNil(checkpoint.slots["deep_feature/dnn_0/kernel/Adam_1"])
        XCTAssertNotNil(checkpoint.slots["beta1_power"])
        XCTAssertNil(checkpoint.slots["global_step"])
    }

    /// A short `odl train` run from the EasyRec checkpoint on the fixture's CSV continues
    /// training (steps run, loss finite) and writes odl checkpoints.
    func testTrainingContinuesFromTheEasyRecCheckpoint() throws {
        let dir = try EasyRecFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var text = try String(contentsOfFile: EasyRecFixture.baseExport + "/assets/pipeline.config", encoding: .utf8)
        text = text.replacingOccurrences(of: #"train_input_path: "[^"]*""#, with: "train_input_path: \"\(EasyRecFixture.root)/data/today.csv\"",
                                         options: .regularExpression)
        text = text.replacingOccurrences(of: #"eval_input_path: "[^"]*"\n"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: "  num_steps: 200\n", with: "  num_steps: 5\n  fine_tune_checkpoint: \"\(EasyRecFixture.checkpoint200)\"\n")
        XCTAssertTrue(text.contains("fine_tune_checkpoint"))
        let configPath = dir + "/pipeline.config"
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let summary = try TrainerRunner.run(TrainOptions(configPath: configPath, modelDir: dir + "/model"),
                                            logger: Logger(label: "easyrec-finetune"))
        XCTAssertEqual(summary.stepsTrained, 5)
        XCTAssertEqual(summary.badSamples, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/model")
        XCTAssertTrue(files.contains { $0.hasPrefix("model.ckpt-") }, "\(files)")
    }
}
