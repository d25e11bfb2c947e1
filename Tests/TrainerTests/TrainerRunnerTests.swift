import Config
import Export
import FG
import Foundation
import Inference
import Logging
import Testing
@testable import Trainer

@Suite(.serialized) struct TrainerRunnerTests {
    /// Offline base training from CSV files (glob) with fs-mode updates and debug copies: one pass,
    /// the last partial batch trained, every `<step>` file followed by its `.done`, and the files
    /// replayed in step order (sparse first) on model.ckpt-0 give the final checkpoint. The export
    /// (embeddings to a separate directory, an extra asset) reads back identical.
    @Test func offlineFilesWithFsUpdatesAndExport() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = tinySamples(100, withBad: true)
        try lines[..<60].joined(separator: "\n").write(toFile: dir + "/part-0.csv", atomically: true, encoding: .utf8)
        try lines[60...].joined(separator: "\n").write(toFile: dir + "/part-1.csv", atomically: true, encoding: .utf8)
        var text = tinyConfig(bootstrap: "unused:1", samples: "unused", updates: nil, modelDir: dir + "/model")
        text = text.replacingOccurrences(of: "kafka_train_input { server: 'unused:1' topic: 'unused'", with: "train_input_path: '\(dir)/part-*.csv' #")
        text = text.replacingOccurrences(of: "input_type: KafkaInput", with: "input_type: CSVInput")
        text = text.replacingOccurrences(of: "log_step_count_steps: 5", with: """
          log_step_count_steps: 5
          incr_save_config { dense_save_steps: 4 sparse_save_steps: 3 debug_save_update: true fs { incr_save_dir: 'incr' } }
        """)
        let configPath = dir + "/offline.config"
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let summary = try TrainerRunner.run(TrainOptions(configPath: configPath), logger: Logger(label: "test"))
        let good = lines.filter { !$0.hasSuffix("broken") }.count
        #expect(summary.reason == .inputExhausted)
        #expect(summary.badSamples == 100 - good)
        #expect(summary.samplesTrained == good)
        #expect(summary.globalStep == (good + 7) / 8)

        let config = try TrainerConfig.load(path: configPath, edits: nil, modelDir: nil, logger: Logger(label: "t"))
        let store = CheckpointStore(directory: dir + "/model")
        let final = try CheckpointStore.read(try #require(store.latest()), spec: config.spec)
        #expect(final.globalStep == summary.globalStep)
        #expect(final.inputOffsets == nil)
        let base = try CheckpointStore.read(try CheckpointStore.resolve(path: dir + "/model/model.ckpt-0"), spec: config.spec)
        let incr = dir + "/model/incr"
        let names = try FileManager.default.contentsOfDirectory(atPath: incr)
        let updates = names.filter { !$0.hasSuffix(".done") }
        #expect(!updates.isEmpty)
        for u in updates { #expect(names.contains(u + ".done")) }
        func order(_ n: String) -> (Int, Int) {
            let step = Int(n.split(separator: "_").last ?? "") ?? -1
            return (step, n.hasPrefix("sparse") ? 0 : 1)
        }
        let replay = try ParameterStore(spec: config.spec, parameters: base.parameters)
        for u in updates.sorted(by: { order($0) < order($1) }) {
            let bytes = try #require(FileManager.default.contents(atPath: incr + "/" + u))
            _ = try replay.apply(try UpdateCodec.decode([UInt8](bytes), spec: config.spec))
        }
        #expect(replay.snapshotParameters() == final.parameters)
        let debug = try FileManager.default.contentsOfDirectory(atPath: dir + "/model/debug_updates")
        #expect(debug.count == updates.count)

        try "extra".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let version = try ModelExporter.export(.init(configPath: configPath, checkpointPath: dir + "/model", exportDir: dir + "/export",
                                                     embeddingDir: dir + "/emb", assetFiles: [dir + "/notes.txt"]),
                                               logger: Logger(label: "test"))
        #expect(try ExportReader.loadParameters(version, spec: config.spec, embeddingDir: dir + "/emb") == final.parameters)
        #expect(FileManager.default.contents(atPath: version + "/notes.txt") == Data("extra".utf8))
        let manifest = try ExportReader.readManifest(version)
        #expect(manifest.incrUpdate == .fs(incrSaveDir: incr))
    }

    /// fine_tune_checkpoint (a directory = its latest checkpoint) initialises every variable of a new
    /// model_dir, global_step restarts at 0; model_dir's own checkpoint then wins on a restart.
    @Test func fineTuneFromOfflineBase() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try tinySamples(64).joined(separator: "\n").write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        func config(_ modelDir: String, fineTune: String?) -> String {
            var text = tinyConfig(bootstrap: "unused:1", samples: "unused", updates: nil, modelDir: modelDir)
            text = text.replacingOccurrences(of: "kafka_train_input { server: 'unused:1' topic: 'unused'", with: "train_input_path: '\(dir)/train.csv' #")
            text = text.replacingOccurrences(of: "input_type: KafkaInput", with: "input_type: CSVInput")
            if let f = fineTune { text = text.replacingOccurrences(of: "num_steps: 0", with: "num_steps: 0\n  fine_tune_checkpoint: '\(f)'") }
            return text
        }
        try config(dir + "/base", fineTune: nil).write(toFile: dir + "/base.config", atomically: true, encoding: .utf8)
        let base = try TrainerRunner.run(TrainOptions(configPath: dir + "/base.config"), logger: Logger(label: "test"))
        #expect(base.globalStep == 8)
        try config(dir + "/online", fineTune: dir + "/base").write(toFile: dir + "/online.config", atomically: true, encoding: .utf8)
        let online = try TrainerRunner.run(TrainOptions(configPath: dir + "/online.config", seed: 99), logger: Logger(label: "test"))
        #expect(online.globalStep == 8)
        let spec = try TrainerConfig.load(path: dir + "/online.config", edits: nil, modelDir: nil, logger: Logger(label: "t")).spec
        let baseFinal = try CheckpointStore.read(try CheckpointStore.resolve(path: dir + "/base"), spec: spec)
        let onlineStart = try CheckpointStore.read(try CheckpointStore.resolve(path: dir + "/online/model.ckpt-0"), spec: spec)
        #expect(onlineStart.parameters == baseFinal.parameters)
        #expect(onlineStart.globalStep == 0)
        // The optimizer comes along too (EasyRec restores every checkpoint variable of the same
        // name): Adam's slots and beta powers continue from the base instead of starting fresh.
        let baseSlots = Dictionary(uniqueKeysWithValues: baseFinal.slots.map { ($0.name, $0) })
        #expect(!onlineStart.slots.isEmpty && onlineStart.slots.count == baseFinal.slots.count)
        for slot in onlineStart.slots {
            #expect(baseSlots[slot.name]?.values == slot.values, "slot \(slot.name) not restored from the base")
        }
        #expect(baseSlots["beta1_power"].map { $0.values[0] < 0.9 } == true)
        // A second run on the same model_dir resumes its own checkpoint (step 8), not the fine-tune base.
        let again = try TrainerRunner.run(TrainOptions(configPath: dir + "/online.config"), logger: Logger(label: "test"))
        #expect(again.globalStep == 16)
    }

    /// An fg-based model: the config names fg.json and no feature configs; sample fields are FG outputs
    /// (`\x03` multi-values). Training encodes them through FG's column encoder, and the export's
    /// pipeline.config lists a feature config for every FG output.
    @Test func fgBasedModelTrainsAndExportsCompleteFeatureConfigs() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fg = """
        {"features": [
          {"feature_name": "user_id", "feature_type": "id_feature", "expression": "user:user_id", "hash_bucket_size": 100, "embedding_dim": 4},
          {"feature_name": "tags", "feature_type": "id_feature", "expression": "item:tags", "hash_bucket_size": 50, "embedding_dim": 4, "is_multi": true},
          {"feature_name": "price", "feature_type": "raw_feature", "expression": "item:price", "bucketize_boundaries": "1,2,5", "embedding_dim": 4}
        ]}
        """
        try fg.write(toFile: dir + "/fg.json", atomically: true, encoding: .utf8)
        let samples = (0..<50).map { i in "\(i % 2),user_id_u\(i % 7),tags_t\(i % 5)\u{3}tags_t\(i % 3),\(i % 4)" }
        try samples.joined(separator: "\n").write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        let config = """
        train_input_path: '\(dir)/train.csv'
        model_dir: '\(dir)/model'
        fg_json_path: 'fg.json'
        train_config {
          optimizer_config { adagrad_optimizer { learning_rate { constant_learning_rate { learning_rate: 0.05 } } } }
          save_checkpoints_steps: 100
        }
        data_config {
          batch_size: 10
          input_fields { input_name: 'clk' input_type: INT32 }
          label_fields: 'clk'
          input_type: CSVInput
        }
        model_config {
          model_class: 'DeepFM'
          feature_groups { group_name: 'wide' feature_names: 'user_id' feature_names: 'tags' wide_deep: WIDE }
          feature_groups { group_name: 'deep' feature_names: 'user_id' feature_names: 'tags' feature_names: 'price' wide_deep: DEEP }
          deepfm { dnn { hidden_units: [8] } }
        }
        """
        let configPath = dir + "/fg.config"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let summary = try TrainerRunner.run(TrainOptions(configPath: configPath), logger: Logger(label: "test"))
        #expect(summary.globalStep == 5)
        #expect(summary.badSamples == 0)
        let resolved = try TrainerConfig.load(path: configPath, edits: nil, modelDir: nil, logger: Logger(label: "t"))
        #expect(resolved.spec.columns.map(\.name) == ["user_id", "tags", "price"])
        #expect(resolved.layout.fields.map(\.name) == ["clk", "user_id", "tags", "price"])
        let version = try ModelExporter.export(.init(configPath: configPath, checkpointPath: dir + "/model", exportDir: dir + "/export"),
                                               logger: Logger(label: "test"))
        let manifest = try ExportReader.readManifest(version)
        #expect(manifest.fgJSON == fg)
        let exported = try PipelineConfig.load(text: manifest.pipelineConfig)
        #expect(Set(exported.allFeatureConfigs.map(\.resolvedName)) == ["user_id", "tags", "price"])
        // The exported config alone (without fg.json) rebuilds the same model.
        #expect(try ModelSpec(config: exported) == resolved.spec)
    }
}
