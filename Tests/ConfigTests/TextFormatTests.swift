import Foundation
import Testing
@testable import Config

/// Protobuf text-format syntax accepted by the loader, and text round trips.
@Suite struct TextFormatTests {
    @Test func syntaxVariants() throws {
        let text = """
            # comment line
            model_dir: 'a\\tb\\x41\\101\\u00e9\\'q\\"' "-tail"   # adjacent strings concatenate
            train_config <
              num_steps: 0x10;
              keep_checkpoint_max: 010,
              enable_oss_stop_signal: t
              optimizer_config: { momentum_optimizer: { learning_rate < exponential_decay_learning_rate {
                initial_learning_rate: .5 decay_steps: 7 decay_factor: 5E-1 staircase: False min_learning_rate: 1e-7f } >
                momentum_optimizer_value: -0.25 } use_moving_average: 1 }
            >
            data_config { input_fields: [ { input_name: "a" input_type: 4 }, { input_name: "b" } ] label_fields: [] }
            feature_config { features: [ { input_names: ["a"] feature_type: RawFeature raw_input_dim: 2 boundaries: [-1.5, 0, 2e2] },
                                         { input_names: "b" vocab_list: ['x', "y"] combiner: 'mean' } ] }
            model_config {
              model_class: "DeepFM"
              feature_groups { group_name: "wide" feature_names: ["a", "b"] wide_deep: 1 }
              feature_groups { group_name: "deep" feature_names: ["a", "b"] }
              deepfm { dnn { hidden_units: [4] dropout_ratio: [0.5] activation: "tf.nn.relu" use_bn: false } }
            }
            """
        // Features have no embedding_dim: the deep group check needs one; give it via a second pass.
        let fixed = text.replacingOccurrences(of: "raw_input_dim: 2", with: "raw_input_dim: 2 embedding_dim: 3")
            .replacingOccurrences(of: "combiner: 'mean'", with: "combiner: 'mean' embedding_dim: 3")
        let c = try PipelineConfig.load(text: fixed)
        #expect(c.warnings.isEmpty)
        #expect(c.proto.modelDir == "a\tbAAé'q\"-tail")
        let t = c.proto.trainConfig
        #expect(t.numSteps == 16 && t.keepCheckpointMax == 8 && t.enableOssStopSignal)
        let o = try #require(c.optimizer)
        #expect(o.useMovingAverage)
        guard case .momentumOptimizer(let m)? = o.optimizer,
              case .exponentialDecayLearningRate(let e)? = m.learningRate.learningRate else {
            Issue.record("expected momentum + exponential decay")
            return
        }
        #expect(m.momentumOptimizerValue == -0.25)
        #expect(e.initialLearningRate == 0.5 && e.decaySteps == 7 && e.decayFactor == 0.5 && !e.staircase)
        #expect(e.minLearningRate == Float(1e-7))
        #expect(c.proto.dataConfig.inputFields.map(\.inputType) == [.float, .string])
        #expect(c.proto.dataConfig.labelFields.isEmpty)
        let f = c.allFeatureConfigs
        #expect(f.count == 2 && f[0].boundaries == [-1.5, 0, 200] && f[0].rawInputDim == 2)
        #expect(f[1].vocabList == ["x", "y"] && f[1].combiner == "mean")
        #expect(c.wideGroup?.wideDeep == .wide)
        #expect(c.deepFM.dnn.dropoutRatio == [0.5] && !c.deepFM.dnn.useBn && c.deepFM.dnn.activationName == "relu")
    }

    @Test func unknownFieldsAreSkippedWithAllValueShapes() throws {
        let text = minimalConfig(train: """
            sync_replicas: true
            train_distribute: MirroredStrategy
            freeze_gradient: ["a", "b"]
            fine_tune_ckpt_var_map: "x"
            [some.extension] { a: 1 }
            """, extra: """
            hive_train_input { host: "x" nested { deeper: [ { a: 1 }, { b: -inf } ] } }
            eval_config { metrics_set { auc { num_thresholds: 200 } } metrics_set { accuracy {} } }
            model_config_extra < x: 1 >
            """)
        let c = try PipelineConfig.load(text: text)
        #expect(c.warnings.map(\.path) == [
            "train_config.sync_replicas", "train_config.train_distribute", "train_config.freeze_gradient",
            "train_config.fine_tune_ckpt_var_map", "train_config.[some.extension]",
            "hive_train_input", "eval_config.metrics_set", "model_config_extra",
        ])
        #expect(c.warnings[0].line == 4 && c.warnings[0].column == 3)
    }

    @Test func unknownFieldInRepeatedMessageWarnsOnce() throws {
        let text = minimalConfig().replacingOccurrences(of: "embedding_dim: 4 }", with: "embedding_dim: 4 initializer { constant_initializer { consts: 1 } } }")
        let c = try PipelineConfig.load(text: text)
        #expect(c.warnings.map(\.path) == ["feature_config.features.initializer"])
    }

    @Test(arguments: ["deepfm_combo_avazu_kafka.config", "deepfm_combo_avazu_kafka_time_offset2.config",
                      "online_incr_kafka.config", "online_incr_fs.config"])
    func roundTrip(name: String) throws {
        let c = try PipelineConfig.load(path: fixture(name))
        let text = c.textFormat()
        let again = try PipelineConfig.load(text: text)
        #expect(again.proto == c.proto)
        #expect(again.warnings.isEmpty)
        #expect(again.textFormat() == text)
        // The generated decoder reads our output too.
        #expect(try EasyRec_EasyRecConfig(textFormatString: text) == c.proto)
    }

    @Test func roundTripOfSpecialValues() throws {
        let text = minimalConfig(train: """
            fine_tune_checkpoint: "x\\n\\"y\\" \\u4e2d"
            incr_save_config { kafka { server: "s" topic: "t" consumer { offset: -0 } } }
            """).replacingOccurrences(of: "deepfm {", with: "deepfm { l2_regularization: -inf final_dnn { hidden_units: 1 } wide_output_dim: 2")
        let c = try PipelineConfig.load(text: text)
        #expect(c.proto.trainConfig.fineTuneCheckpoint == "x\n\"y\" 中")
        #expect(c.deepFM.l2Regularization == -.infinity)
        let again = try PipelineConfig.load(text: c.textFormat())
        #expect(again.proto == c.proto)
    }

    @Test func defaults() throws {
        let c = try PipelineConfig.load(text: minimalConfig())
        let d = c.proto.dataConfig
        #expect(d.batchSize == 32 && d.separator == "," && d.rtpSeparator == ";" && d.shuffle)
        #expect(d.inputType == .csvinput && !d.hasInputType && d.inputFields[1].inputType == .string)
        let f = c.allFeatureConfigs[0]
        #expect(f.combiner == "sum" && f.separator == "|" && f.featureType == .idFeature && f.rawInputDim == 1)
        #expect(f.resolvedName == "a" && !f.hasFeatureName)
        let fm = c.deepFM
        #expect(fm.wideOutputDim == 1 && fm.dnn.useBn && fm.dnn.activation == "tf.nn.relu" && !fm.hasFinalDnn)
        #expect(fm.l2Regularization == Float(1e-4))
        let t = c.proto.trainConfig
        #expect(t.keepCheckpointMax == 10 && t.saveCheckpointsSteps == 1000 && t.logStepCountSteps == 10)
        #expect(try t.numSteps == 0 && !t.hasSaveCheckpointsSecs && t.deadLineSeconds() == nil)
        #expect(c.proto.modelConfig.numClass == 1 && c.proto.modelConfig.embeddingRegularization == 0)
        #expect(t.incrSaveConfig.fs.incrSaveDir == "incr_save" && t.incrSaveConfig.kafka.consumer.offset == 0)
        #expect(EasyRec_AdamOptimizer().beta1 == Float(0.9) && EasyRec_AdamOptimizer().beta2 == Float(0.999))
        #expect(EasyRec_MomentumOptimizer().momentumOptimizerValue == Float(0.9))
        #expect(EasyRec_AdagradOptimizer().initialAccumulatorValue == Float(0.1))
        #expect(EasyRec_ConstantLearningRate().learningRate == Float(0.002))
        #expect(EasyRec_ExponentialDecayLearningRate().staircase)
        #expect(c.trainInput == nil && c.evalInput == nil)
    }

    @Test func oldStyleFeatureConfigs() throws {
        let text = minimalConfig()
            .replacingOccurrences(of: "feature_config {\n  features {", with: "feature_configs {")
            .replacingOccurrences(of: "  features { input_names: \"b\" hash_bucket_size: 20 embedding_dim: 4 }\n}",
                                  with: "feature_configs { input_names: \"b\" feature_name: \"bee\" hash_bucket_size: 20 embedding_dim: 4 }")
            .replacingOccurrences(of: "feature_names: \"b\"", with: "feature_names: \"bee\"")
        let c = try PipelineConfig.load(text: text)
        #expect(c.proto.featureConfigs.count == 2 && !c.proto.hasFeatureConfig)
        #expect(c.allFeatureConfigs.map(\.resolvedName) == ["a", "bee"])
        var edited = c
        try edited.applyEdits(json: #"{"feature_configs[feature_name=bee].hash_bucket_size": 99}"#)
        #expect(edited.featureConfig(named: "bee")?.hashBucketSize == 99)
    }
}
