import Config
import Export
import Foundation
import Inference
import Logging
import Testing
@testable import Trainer

@Suite struct ExportTests {
    /// Deterministic parameters of every variable of `spec`.
    func parameters(_ spec: ModelSpec) -> ModelParameters {
        ModelParameters(dense: spec.denseVariables.map { v in (0..<v.elementCount).map { Float(($0 * 7 + v.id) % 11) / 10 - 0.5 } },
                        tables: spec.embeddings.map { e in
                            .fixed(rows: e.rows ?? 0, dim: e.dim, values: (0..<((e.rows ?? 0) * e.dim)).map { Float(($0 + e.id) % 13) / 13 })
                        })
    }

    @Test func exportReadsBackWithTheCheckpointsUpdateOffset() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configPath = dir + "/tiny.config"
        try tinyConfig(bootstrap: "127.0.0.1:9", samples: "s", updates: "incr_model", modelDir: dir + "/model")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let config = try TrainerConfig.load(path: configPath, edits: nil, modelDir: nil, logger: Logger(label: "t"))
        let params = parameters(config.spec)
        try CheckpointStore(directory: dir + "/model").write(
            CheckpointContents(globalStep: 40, parameters: params, updateOffsets: [0: 17], inputOffsets: [0: 3]), spec: config.spec, keep: 5)
        let edits = #"{"train_config.incr_save_config.kafka.topic": "incr_model_20220420"}"#
        let version = try ModelExporter.export(.init(configPath: configPath, editConfigJSON: edits, checkpointPath: dir + "/model",
                                                     exportDir: dir + "/export"), logger: Logger(label: "t"))
        #expect((version as NSString).deletingLastPathComponent == dir + "/export")
        #expect(Int((version as NSString).lastPathComponent) != nil)
        #expect(try ExportReader.loadParameters(version, spec: config.spec) == params)
        let manifest = try ExportReader.readManifest(version)
        #expect(manifest.kafka?.topic == "incr_model_20220420")
        #expect(manifest.kafka?.server == "127.0.0.1:9")
        #expect(manifest.kafka?.offset == 17)
        #expect(manifest.globalStep == 40)
        #expect(manifest.denseVariableIds == Dictionary(uniqueKeysWithValues: config.spec.denseVariables.map { ($0.name, $0.id) }))
        // pipeline.config carries the edit and rebuilds the same model.
        let exported = try PipelineConfig.load(text: manifest.pipelineConfig)
        #expect(exported.proto.trainConfig.incrSaveConfig.kafka.topic == "incr_model_20220420")
        #expect(try ModelSpec(config: exported) == config.spec)
        // No temporary folder is left behind; a second export gets a newer version.
        let second = try ModelExporter.export(.init(configPath: configPath, checkpointPath: dir + "/model/model.ckpt-40",
                                                    exportDir: dir + "/export"), logger: Logger(label: "t"))
        #expect(second > version)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/export").sorted()
                == [(version as NSString).lastPathComponent, (second as NSString).lastPathComponent].sorted())
    }

    @Test func baseWithoutUpdatesUsesTheConfiguredOffset() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configPath = dir + "/tiny.config"
        try tinyConfig(bootstrap: "127.0.0.1:9", samples: "s", updates: "u", modelDir: dir + "/model")
            .replacingOccurrences(of: "consumer { offset: 0 }", with: "consumer { offset: 5 }")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let config = try TrainerConfig.load(path: configPath, edits: nil, modelDir: nil, logger: Logger(label: "t"))
        try CheckpointStore(directory: dir + "/model").write(CheckpointContents(globalStep: 0, parameters: parameters(config.spec)),
                                                            spec: config.spec, keep: 5)
        let version = try ModelExporter.export(.init(configPath: configPath, checkpointPath: dir + "/model", exportDir: dir + "/export",
                                                     embeddingDir: dir + "/emb"), logger: Logger(label: "t"))
        #expect(try ExportReader.readManifest(version).kafka?.offset == 5)
        #expect(try ExportReader.loadParameters(version, spec: config.spec, embeddingDir: dir + "/emb") == parameters(config.spec))
        #expect(!FileManager.default.fileExists(atPath: version + "/embeddings"))
    }

    @Test func missingCheckpointIsANamedError() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tinyConfig(bootstrap: "127.0.0.1:9", samples: "s", updates: nil, modelDir: dir + "/model")
            .write(toFile: dir + "/c.config", atomically: true, encoding: .utf8)
        #expect(throws: TrainerError.checkpoint(path: dir + "/nothing", reason: "no such checkpoint or directory")) {
            try ModelExporter.export(.init(configPath: dir + "/c.config", checkpointPath: dir + "/nothing", exportDir: dir + "/e"),
                                     logger: Logger(label: "t"))
        }
    }
}

/// Settings that load but do not change training are named in the trainer's warnings.
@Suite struct IgnoredSettingsTests {
    @Test func dropoutAndMovingAverageAreReported() throws {
        let base = tinyConfig(bootstrap: "127.0.0.1:9", samples: "s", updates: nil, modelDir: "m")
        #expect(TrainerConfig.ignoredSettings(try PipelineConfig.load(text: base)).isEmpty)
        var config = try PipelineConfig.load(text: base)
        config.proto.modelConfig.deepfm.dnn.dropoutRatio = [0.2, 0]
        config.proto.trainConfig.optimizerConfig[0].useMovingAverage = true
        let notes = TrainerConfig.ignoredSettings(config)
        #expect(notes.count == 2)
        #expect(notes.contains { $0.hasPrefix("model_config.deepfm.dnn.dropout_ratio") })
        #expect(notes.contains { $0.hasPrefix("train_config.optimizer_config.use_moving_average") })
    }
}
