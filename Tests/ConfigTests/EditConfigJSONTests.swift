import Foundation
import Testing
@testable import Config

/// edit_config_json: dotted paths with values applied after loading.
@Suite struct EditConfigJSONTests {
    func online() throws -> PipelineConfig { try PipelineConfig.load(path: fixture("online_incr_kafka.config")) }

    @Test func theThreeDocumentedEdits() throws {
        var c = try online()
        try c.applyEdits(json: #"""
            {"train_config.fine_tune_checkpoint": "oss://bucket-bj/checkpoints/20220419/offline/",
             "train_config.incr_save_config.kafka.topic": "incr_model_20220420",
             "kafka_train_input.offset_info": "{\"timestamp\": 1650765000}"}
            """#)
        #expect(c.proto.trainConfig.fineTuneCheckpoint == "oss://bucket-bj/checkpoints/20220419/offline/")
        #expect(c.proto.trainConfig.incrSaveConfig.kafka.topic == "incr_model_20220420")
        #expect(c.proto.trainConfig.incrSaveConfig.kafka.server == "127.0.0.1:9092")
        #expect(try c.trainInput?.startPosition() == .timestamp(seconds: 1650765000))
        // untouched fields keep their values and presence
        #expect(c.proto.trainConfig.incrSaveConfig.denseSaveSteps == 10)
        #expect(c.proto.trainConfig.hasSaveCheckpointsSecs && !c.proto.trainConfig.hasSaveCheckpointsSteps)
        #expect(c.allFeatureConfigs.count == 3)
        // the edited config survives text serialization
        let again = try PipelineConfig.load(text: c.textFormat())
        #expect(again.proto == c.proto)
    }

    @Test func badPathNamesThePath() throws {
        var c = try online()
        let before = c
        let e = try #require(configError { try c.applyEdits(json: #"{"train_config.incr_save_config.kafka.topik": "x"}"#) })
        #expect(e.kind == .unknownField)
        #expect(e.path == "train_config.incr_save_config.kafka.topik")
        #expect(e.reason.contains("topik"))
        #expect(c == before)
        let e2 = try #require(configError { try c.applyEdits(json: #"{"no_such_block.x": 1}"#) })
        #expect(e2.path == "no_such_block.x" && e2.kind == .unknownField)
        let e3 = try #require(configError { try c.applyEdits(json: #"{"model_dir.x": 1}"#) })
        #expect(e3.path == "model_dir.x" && e3.kind == .unknownField)
    }

    @Test func scalarConversions() throws {
        var c = try online()
        try c.applyEdits(json: #"""
            {"train_config.num_steps": "2000", "data_config.batch_size": 64,
             "train_config.enable_oss_stop_signal": "false", "data_config.input_type": "CSVInput",
             "model_config.deepfm.l2_regularization": "1e-6", "model_config.deepfm.dnn.hidden_units": "[32, 16]",
             "train_config.incr_save_config.kafka.consumer.offset": "9000000000",
             "model_config.feature_groups[0].wide_deep": 0}
            """#)
        #expect(c.proto.trainConfig.numSteps == 2000 && c.proto.dataConfig.batchSize == 64)
        #expect(!c.proto.trainConfig.enableOssStopSignal && c.proto.dataConfig.inputType == .csvinput)
        #expect(c.deepFM.l2Regularization == Float(1e-6) && c.deepFM.dnn.hiddenUnits == [32, 16])
        #expect(c.proto.trainConfig.incrSaveConfig.kafka.consumer.offset == 9_000_000_000)
        #expect(c.proto.modelConfig.featureGroups[0].wideDeep == .deep)
    }

    @Test func badValueNamesTheField() throws {
        var c = try online()
        let e = try #require(configError { try c.applyEdits(json: #"{"train_config.num_steps": "abc"}"#) })
        #expect(e.kind == .badValue && e.path == "train_config.num_steps")
        let e2 = try #require(configError { try c.applyEdits(json: #"{"data_config.input_type": "OdpsInput"}"#) })
        #expect(e2.kind == .badValue && e2.path == "data_config.input_type" && e2.reason.contains("KafkaInput"))
        let e3 = try #require(configError { try c.applyEdits(json: #"{"train_config.num_steps": -1}"#) })
        #expect(e3.path == "train_config.num_steps" && e3.reason.contains("out of range"))
        let e4 = try #require(configError { try c.applyEdits(json: "{\"a\": ") })
        #expect(e4.kind == .syntax)
    }

    @Test func selectorsIntoRepeatedFields() throws {
        var c = try online()
        try c.applyEdits(json: #"""
            {"feature_config.features[0].hash_bucket_size": 500,
             "feature_configs[input_names[0]=price].boundaries": [1, 2, 3, 4],
             "feature_config.features[feature_name=item_id].combiner": "mean",
             "feature_config.features[:].embedding_name": "shared",
             "model_config.feature_groups[group_name=deep].feature_names[2]": "user_id"}
            """#)
        let f = c.allFeatureConfigs
        #expect(f[0].hashBucketSize == 500 && f[1].hashBucketSize == 0)
        #expect(f[2].boundaries == [1, 2, 3, 4])
        #expect(f[1].combiner == "mean" && f[0].combiner == "sum")
        #expect(f.allSatisfy { $0.embeddingName == "shared" })
        #expect(c.deepFeatureNames == ["user_id", "item_id", "user_id"])
        let e = try #require(configError { try c.applyEdits(json: #"{"feature_config.features[input_names[0]=nope].embedding_dim": 8}"#) })
        #expect(e.path == "feature_config.features[input_names[0]=nope].embedding_dim" && e.reason.contains("matches no element"))
        let e2 = try #require(configError { try c.applyEdits(json: #"{"feature_config.features.embedding_dim": 8}"#) })
        #expect(e2.reason.contains("repeated"))
        let e3 = try #require(configError { try c.applyEdits(json: #"{"feature_config.features[7].embedding_dim": 8}"#) })
        #expect(e3.reason.contains("matches no element"))
    }

    @Test func messageValuesAsTextOrJSON() throws {
        var c = try online()
        try c.applyEdits(json: #"""
            {"train_config.incr_save_config": "dense_save_steps: 3 sparse_save_steps: 4 fs { incr_save_dir: 'd' }"}
            """#)
        let incr = c.proto.trainConfig.incrSaveConfig
        #expect(incr.denseSaveSteps == 3 && incr.sparseSaveSteps == 4 && incr.fs.incrSaveDir == "d")
        guard case .fs? = incr.incrUpdate else { Issue.record("fs expected"); return }

        try c.applyEdits(json: #"""
            {"train_config.incr_save_config": {"dense_save_steps": 7, "kafka": {"server": "k:9092", "topic": "t",
              "consumer": {"offset": "12"}}}}
            """#)
        let k = c.proto.trainConfig.incrSaveConfig
        #expect(k.denseSaveSteps == 7 && k.sparseSaveSteps == 0 && k.kafka.topic == "t" && k.kafka.consumer.offset == 12)

        try c.applyEdits(json: #"{"train_config.incr_save_config.fs": "{\"incr_save_dir\": \"e\"}"}"#)
        guard case .fs(let fs)? = c.proto.trainConfig.incrSaveConfig.incrUpdate else { Issue.record("fs expected"); return }
        #expect(fs.incrSaveDir == "e" && c.proto.trainConfig.incrSaveConfig.denseSaveSteps == 7)

        let e = try #require(configError { try c.applyEdits(json: #"{"train_config.incr_save_config": "dense_save_steps: x"}"#) })
        #expect(e.path == "train_config.incr_save_config.dense_save_steps" && e.kind == .badValue)
    }

    @Test func oneofSwitchAndClear() throws {
        var c = try online()
        try c.applyEdits(json: #"{"train_input_path": "data/*.csv", "kafka_eval_input": null}"#)
        #expect(c.trainInput == nil && c.proto.trainInputPath == "data/*.csv")
        #expect(c.proto.evalPath == nil)
    }

    @Test func editsAreValidated() throws {
        var c = try online()
        let e = try #require(configError { try c.applyEdits(json: #"{"model_config.model_class": "DSSM"}"#) })
        #expect(e.kind == .unsupported && e.path == "model_config.model_class" && e.reason.contains("DSSM"))
        let e2 = try #require(configError { try c.applyEdits(json: #"{"kafka_train_input.offset_info": "{\"0\": -5}"}"#) })
        #expect(e2.path == "kafka_train_input.offset_info")
    }
}
