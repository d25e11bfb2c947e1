import Foundation

/// Accessors other modules use to read the model and its features.
extension PipelineConfig {
    /// Features from `feature_configs` (old style) followed by `feature_config.features`.
    public var allFeatureConfigs: [EasyRec_FeatureConfig] {
        proto.featureConfigs + proto.featureConfig.features
    }

    /// The feature whose resolved name (feature_name, else input_names[0]) is `name`.
    public func featureConfig(named name: String) -> EasyRec_FeatureConfig? {
        allFeatureConfigs.first { $0.resolvedName == name }
    }

    /// The DeepFM block (validated present).
    public var deepFM: EasyRec_DeepFM { proto.modelConfig.deepfm }

    /// The feature group named "wide" (EasyRec's DeepFM looks groups up by name).
    public var wideGroup: EasyRec_FeatureGroupConfig? {
        proto.modelConfig.featureGroups.first { $0.groupName == "wide" }
    }

    /// The feature group named "deep".
    public var deepGroup: EasyRec_FeatureGroupConfig? {
        proto.modelConfig.featureGroups.first { $0.groupName == "deep" }
    }

    /// Feature names of the wide group, in config order (empty when absent).
    public var wideFeatureNames: [String] { wideGroup?.featureNames ?? [] }

    /// Feature names of the deep group, in config order.
    public var deepFeatureNames: [String] { deepGroup?.featureNames ?? [] }

    /// The Kafka training input, when the config uses one.
    public var trainInput: EasyRec_KafkaServer? {
        if case .kafkaTrainInput(let k)? = proto.trainPath { return k }
        return nil
    }

    /// The Kafka evaluation input, when the config uses one.
    public var evalInput: EasyRec_KafkaServer? {
        if case .kafkaEvalInput(let k)? = proto.evalPath { return k }
        return nil
    }

    /// The DataHub training input, when the config uses one.
    public var datahubTrainInput: EasyRec_DatahubServer? {
        if case .datahubTrainInput(let d)? = proto.trainPath { return d }
        return nil
    }

    /// The DataHub evaluation input, when the config uses one.
    public var datahubEvalInput: EasyRec_DatahubServer? {
        if case .datahubEvalInput(let d)? = proto.evalPath { return d }
        return nil
    }

    /// The first optimizer_config (EasyRec uses the first for all variables), if any.
    public var optimizer: EasyRec_Optimizer? { proto.trainConfig.optimizerConfig.first }
}

extension EasyRec_FeatureConfig {
    /// EasyRec's feature name: `feature_name`, else `input_names[0]` (empty when neither).
    public var resolvedName: String {
        hasFeatureName && !featureName.isEmpty ? featureName : (inputNames.first ?? "")
    }

    /// Whether the feature uses a key-value (embedding variable) table: `ev_params` present.
    public var isKeyValue: Bool { hasEvParams }
}

extension EasyRec_DNN {
    /// The activation without the `tf.nn.` / `tf.` prefix, e.g. "relu" (default "tf.nn.relu").
    public var activationName: String {
        var a = activation
        for p in ["tf.nn.", "tf.keras.activations.", "tf."] where a.hasPrefix(p) {
            a.removeFirst(p.count)
            break
        }
        return a
    }
}

extension EasyRec_LearningRate {
    /// The learning rate at `step` (0-based global step) following EasyRec / TensorFlow:
    /// constant, or exponential decay `initial * factor^(step/decay_steps)` (floored when
    /// staircase) bounded below by min_learning_rate. Unset means constant 0.002.
    public func value(atStep step: Int64) -> Double {
        switch learningRate {
        case .exponentialDecayLearningRate(let e)?:
            let steps = Double(max(e.decaySteps, 1))
            var p = Double(step) / steps
            if e.staircase { p = p.rounded(.down) }
            var lr = Double(e.initialLearningRate) * pow(Double(e.decayFactor), p)
            if e.hasMinLearningRate || e.minLearningRate > 0 { lr = max(lr, Double(e.minLearningRate)) }
            return lr
        case .constantLearningRate(let c)?:
            return Double(c.learningRate)
        case nil:
            return Double(EasyRec_ConstantLearningRate().learningRate)
        }
    }
}
