import Foundation
import Testing
@testable import Config

/// EasyRec's own DeepFM + Kafka sample configs load with the expected values and warnings.
@Suite struct CompatSamplesTests {
    static let samples = ["deepfm_combo_avazu_kafka.config", "deepfm_combo_avazu_kafka_time_offset.config",
                          "deepfm_combo_avazu_kafka_time_offset2.config"]

    @Test(arguments: samples)
    func loadsWithWarningsForUnsupportedFields(name: String) throws {
        let c = try PipelineConfig.load(path: fixture(name))
        #expect(c.warnings.map(\.path) == [
            "train_config.sync_replicas", "eval_config.metrics_set",
            "data_config.prefetch_size", "export_config.multi_placeholder",
        ])
        let sync = try #require(c.warnings.first)
        #expect(sync.line > 20 && sync.column == 3)
        #expect(sync.description.contains("train_config.sync_replicas"))
    }

    @Test(arguments: samples)
    func modelAndFeatures(name: String) throws {
        let c = try PipelineConfig.load(path: fixture(name))
        let features = c.allFeatureConfigs
        #expect(features.count == 23)
        #expect(c.proto.featureConfigs.isEmpty)
        #expect(features.map(\.resolvedName).first == "hour")
        let hour = try #require(c.featureConfig(named: "hour"))
        #expect(hour.featureType == .idFeature && hour.numBuckets == 24 && hour.embeddingDim == 16)
        let c1 = try #require(c.featureConfig(named: "c1"))
        #expect(c1.featureType == .rawFeature)
        #expect(c1.boundaries == (0..<16).map { 1000.0 + Double($0) })
        #expect(c.featureConfig(named: "c20")?.boundaries == (1...14).map { Double($0) * 100 })
        #expect(c.featureConfig(named: "c21")?.boundaries.count == 25)
        let combo = try #require(c.featureConfig(named: "site_id_app_id"))
        #expect(combo.featureType == .comboFeature)
        #expect(combo.inputNames == ["site_id", "app_id"])
        #expect(combo.hashBucketSize == 1000)
        #expect(c.featureConfig(named: "device_id")?.hashBucketSize == 100000)
        // defaults
        #expect(combo.combiner == "sum" && combo.separator == "|" && !combo.isKeyValue)

        #expect(c.proto.modelConfig.modelClass == "DeepFM")
        #expect(c.deepFeatureNames.count == 23 && c.deepFeatureNames.last == "site_id_app_id")
        #expect(c.wideFeatureNames.count == 22)
        #expect(c.wideGroup?.wideDeep == .wide && c.deepGroup?.wideDeep == .deep)
        let fm = c.deepFM
        #expect(fm.dnn.hiddenUnits == [128, 64, 32])
        #expect(fm.hasFinalDnn && fm.finalDnn.hiddenUnits == [128, 64])
        #expect(fm.wideOutputDim == 16)
        #expect(fm.l2Regularization == Float(1e-5))
        #expect(fm.dnn.useBn && fm.dnn.activation == "tf.nn.relu" && fm.dnn.activationName == "relu")
        #expect(c.proto.modelConfig.embeddingRegularization == Float(1e-7))
    }

    @Test(arguments: samples)
    func trainAndData(name: String) throws {
        let c = try PipelineConfig.load(path: fixture(name))
        let t = c.proto.trainConfig
        #expect(t.logStepCountSteps == 200 && t.saveCheckpointsSteps == 500 && t.numSteps == 1000)
        #expect(t.keepCheckpointMax == 10 && !t.hasFineTuneCheckpoint)
        let opt = try #require(c.optimizer)
        #expect(opt.hasUseMovingAverage && !opt.useMovingAverage)
        guard case .adamOptimizer(let adam)? = opt.optimizer else {
            Issue.record("expected adam, got \(String(describing: opt.optimizer))")
            return
        }
        #expect(adam.beta1 == Float(0.9) && adam.beta2 == Float(0.999))
        guard case .exponentialDecayLearningRate(let e)? = adam.learningRate.learningRate else {
            Issue.record("expected exponential decay")
            return
        }
        #expect(e.initialLearningRate == Float(0.0001) && e.decaySteps == 10000)
        #expect(e.decayFactor == Float(0.5) && e.minLearningRate == Float(1e-7) && e.staircase)
        #expect(abs(adam.learningRate.value(atStep: 25000) - 0.0001 * 0.25) < 1e-12)
        #expect(adam.learningRate.value(atStep: 10_000_000) == Double(Float(1e-7)))

        let d = c.proto.dataConfig
        #expect(d.batchSize == 1024 && d.separator == "," && d.inputType == .kafkaInput)
        #expect(d.inputFields.count == 23 && d.labelFields == ["label"])
        #expect(d.inputFields[0].inputType == .int64 && d.inputFields[4].inputType == .string)
        #expect(d.inputFields[4].defaultVal == "0")
        #expect(c.proto.evalConfig.numExamples == 10240)
        #expect(c.trainInput?.server == "127.0.0.1:9092" && c.trainInput?.topic == "kafka_op_test_topic")
        #expect(c.trainInput?.group == "kafka_train" && c.evalInput?.group == "kafka_test")
    }

    @Test func offsetInfoByPartition() throws {
        let c = try PipelineConfig.load(path: fixture("deepfm_combo_avazu_kafka.config"))
        #expect(try c.trainInput?.startPosition() == .partitionOffsets([0: 5, 1: 10]))
        #expect(try c.evalInput?.startPosition() == .partitionOffsets([0: 20, 1: 30]))
    }

    @Test func offsetTimeAsUnixSeconds() throws {
        let c = try PipelineConfig.load(path: fixture("deepfm_combo_avazu_kafka_time_offset.config"))
        #expect(c.trainInput?.offsetTime == "1650765731")
        #expect(try c.trainInput?.startPosition() == .timestamp(seconds: 1650765731))
    }

    @Test func offsetTimeAsDateTime() throws {
        let c = try PipelineConfig.load(path: fixture("deepfm_combo_avazu_kafka_time_offset2.config"))
        #expect(try c.trainInput?.startPosition(timeZone: utc) == .timestamp(seconds: 1652817600))
        let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
        #expect(try c.evalInput?.startPosition(timeZone: shanghai) == .timestamp(seconds: 1652817600 - 8 * 3600))
    }
}
