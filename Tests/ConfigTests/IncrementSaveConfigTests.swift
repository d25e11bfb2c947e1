import Foundation
import Testing
@testable import Config

/// incr_save_config with kafka / fs, as in EasyRec's online-training docs.
@Suite struct IncrementSaveConfigTests {
    @Test func kafkaBlock() throws {
        let c = try PipelineConfig.load(path: fixture("online_incr_kafka.config"))
        #expect(c.warnings.isEmpty, "\(c.warnings)")
        let t = c.proto.trainConfig
        #expect(t.hasIncrSaveConfig)
        let incr = t.incrSaveConfig
        #expect(incr.denseSaveSteps == 10 && incr.sparseSaveSteps == 10)
        #expect(incr.denseSaveSecs == 0 && !incr.debugSaveUpdate)
        guard case .kafka(let k)? = incr.incrUpdate else {
            Issue.record("expected kafka, got \(String(describing: incr.incrUpdate))")
            return
        }
        #expect(k.server == "127.0.0.1:9092" && k.topic == "kafka_model_20220408")
        #expect(k.hasConsumer && k.consumer.hasOffset && k.consumer.offset == 0)
        #expect(t.enableOssStopSignal)
        #expect(t.numSteps == 0 && t.hasSaveCheckpointsSecs && t.saveCheckpointsSecs == 600)
        #expect(t.keepCheckpointMax == 3 && t.saveCheckpointsSteps == 1000 && t.logStepCountSteps == 10)
        #expect(try t.deadLineSeconds(timeZone: utc) == 1650499199)
        #expect(try c.trainInput?.startPosition() == .timestamp(seconds: 1650765731))

        guard case .adagradOptimizer(let a)? = c.optimizer?.optimizer else {
            Issue.record("expected adagrad")
            return
        }
        #expect(a.initialAccumulatorValue == Float(0.05))
        #expect(a.learningRate.value(atStep: 123) == Double(Float(0.01)))

        let item = try #require(c.featureConfig(named: "item_id"))
        #expect(item.isKeyValue && item.evParams.filterFreq == 2 && item.hashBucketSize == 0)
        #expect(c.featureConfig(named: "price")?.boundaries == [10, 50, 100])
        #expect(c.deepFM.wideOutputDim == 1 && !c.deepFM.hasFinalDnn)
        #expect(c.proto.exportConfig.assetFiles == ["fg.json"])
        #expect(c.proto.dataConfig.inputFields[3].inputType == .double)
    }

    @Test func fsBlock() throws {
        let c = try PipelineConfig.load(path: fixture("online_incr_fs.config"))
        guard case .fs(let fs)? = c.proto.trainConfig.incrSaveConfig.incrUpdate else {
            Issue.record("expected fs")
            return
        }
        #expect(fs.incrSaveDir == "/mnt/data/incr_save" && fs.hasRelative && !fs.relative && fs.mountPath == "/mnt/data")
        #expect(!c.proto.trainConfig.incrSaveConfig.kafka.hasConsumer)
    }

    @Test func fsDefaults() throws {
        let c = try PipelineConfig.load(text: minimalConfig(train: "incr_save_config { dense_save_steps: 5 fs {} }"))
        let fs = c.proto.trainConfig.incrSaveConfig.fs
        #expect(fs.incrSaveDir == "incr_save" && fs.relative && fs.mountPath.isEmpty)
        guard case .fs? = c.proto.trainConfig.incrSaveConfig.incrUpdate else {
            Issue.record("empty fs {} must select fs")
            return
        }
    }

    @Test func kafkaAndFsTogetherIsAnError() throws {
        let text = minimalConfig(train: """
            incr_save_config {
              kafka { server: "s" topic: "t" }
              fs { incr_save_dir: "x" }
            }
            """)
        let e = try #require(configError { _ = try PipelineConfig.load(text: text) })
        #expect(e.path == "train_config.incr_save_config.fs")
        #expect(e.reason.contains("kafka") && e.reason.contains("oneof"))
        #expect(e.line == 6)
    }

    @Test func kafkaWithoutTopicIsAnError() throws {
        let text = minimalConfig(train: "incr_save_config { kafka { server: \"s\" } }")
        let e = try #require(configError { _ = try PipelineConfig.load(text: text) })
        #expect(e.path == "train_config.incr_save_config.kafka.topic")
    }

    @Test func badDeadLineIsAnError() throws {
        let e = try #require(configError { _ = try PipelineConfig.load(text: minimalConfig(train: "dead_line: \"2022-04-20\"")) })
        #expect(e.path == "train_config.dead_line" && e.line == 4)
    }
}

/// CLI / exporter conveniences.
@Suite struct PipelineConfigIOTests {
    @Test func loadWithEditsAndWrite() throws {
        let c = try PipelineConfig.load(path: fixture("online_incr_kafka.config"),
                                        editConfigJSON: #"{"train_config.incr_save_config.kafka.topic": "t2"}"#)
        #expect(c.proto.trainConfig.incrSaveConfig.kafka.topic == "t2")
        let unchanged = try PipelineConfig.load(path: fixture("online_incr_kafka.config"), editConfigJSON: "  ")
        #expect(unchanged.proto.trainConfig.incrSaveConfig.kafka.topic == "kafka_model_20220408")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("config-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("pipeline.config").path
        try c.write(path: out)
        try c.write(path: out)   // overwrite
        #expect(try PipelineConfig.load(path: out).proto == c.proto)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["pipeline.config"])
    }

    @Test func setFeatureConfigsMovesEverythingToFeatureConfig() throws {
        var c = try PipelineConfig.load(text: minimalConfig())
        var f = EasyRec_FeatureConfig()
        f.inputNames = ["a"]
        f.hashBucketSize = 7
        f.embeddingDim = 4
        var g = f
        g.inputNames = ["b"]
        c.setFeatureConfigs([f, g])
        try c.validate()
        #expect(c.featureConfig(named: "a")?.hashBucketSize == 7 && c.allFeatureConfigs.count == 2)
        c.setFeatureConfigs([f])
        let e = try #require(configError { try c.validate() })
        #expect(e.reason.contains("\"b\""))
    }

    @Test func librdkafkaProperties() throws {
        var k = EasyRec_KafkaServer()
        k.configGlobal = ["fetch.max.bytes=1048576", " sasl.password = a=b "]
        k.configTopic = ["auto.offset.reset=earliest"]
        let p = try k.librdkafkaProperties()
        #expect(p.map(\.key) == ["fetch.max.bytes", "sasl.password", "auto.offset.reset"])
        #expect(p.map(\.value) == ["1048576", "a=b", "earliest"])
        k.configTopic = ["novalue"]
        let e = try #require(configError { _ = try k.librdkafkaProperties() })
        #expect(e.path == "config_topic")
        let text = minimalConfig(extra: "kafka_train_input { server: 's' topic: 't' config_global: '=x' }")
        let e2 = try #require(configError { _ = try PipelineConfig.load(text: text) })
        #expect(e2.path == "kafka_train_input.config_global" && e2.line == 22)
    }
}
