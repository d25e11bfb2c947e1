/// Consistency checks run after loading and after edits. Errors name the field path and,
/// when the config came from text, its line.
extension PipelineConfig {
    /// Checks that the config describes a DeepFM model odl can build and run.
    public func validate() throws(ConfigError) {
        try validate(source: "", positions: [:])
    }

    func validate(source: String, positions: [String: TextPosition] = [:]) throws(ConfigError) {
        let found = problems(source: source, positions: positions)
        guard var first = found.first else { return }
        first.others = Array(found.dropFirst())
        throw first
    }

    /// Every problem of the config, in config order: one per independent part (the model block,
    /// each feature, the groups, data_config, each optimizer, dead_line, incr_save_config, each input).
    func problems(source: String, positions: [String: TextPosition] = [:]) -> [ConfigError] {
        var found: [ConfigError] = []
        func check(_ part: () throws(ConfigError) -> Void) {
            do throws(ConfigError) { try part() } catch { found.append(error) }
        }
        func fail(_ kind: ConfigError.Kind, _ path: String, _ reason: String) -> ConfigError {
            let p = positions[path]
            return ConfigError(kind, path: path, line: p?.line, column: p?.column, reason: reason, source: source)
        }
        check { () throws(ConfigError) in try validateModel(fail) }
        let model = proto.modelConfig
        guard case .deepfm? = model.model else { return found }  // groups and dims need a DeepFM model block

        // Features.
        let features = allFeatureConfigs
        var byName: [String: EasyRec_FeatureConfig] = [:]
        let inputFieldNames = Set(proto.dataConfig.inputFields.map(\.inputName))
        for (i, f) in features.enumerated() {
            check { () throws(ConfigError) in
                let prefix = i < proto.featureConfigs.count ? "feature_configs[\(i)]"
                    : "feature_config.features[\(i - proto.featureConfigs.count)]"
                let name = f.resolvedName
                guard !name.isEmpty else {
                    throw fail(.invalid, prefix, "a feature needs feature_name or input_names")
                }
                guard byName[name] == nil else {
                    throw fail(.invalid, prefix + ".feature_name", "feature name \"\(name)\" is used by two features")
                }
                byName[name] = f
                try checkFeature(f, name: name, prefix: prefix, inputFields: inputFieldNames, fail)
            }
        }
        check { () throws(ConfigError) in try validateGroups(features: features, byName: byName, fail) }
        check { () throws(ConfigError) in try validateData(fail) }
        for (i, o) in proto.trainConfig.optimizerConfig.enumerated() {
            check { () throws(ConfigError) in try validateOptimizer(o, path: "train_config.optimizer_config[\(i)]", fail) }
        }
        check { () throws(ConfigError) in try validateTrainRest(fail) }
        for (k, field) in [(trainInput, "kafka_train_input"), (evalInput, "kafka_eval_input")] {
            guard let k else { continue }
            check { () throws(ConfigError) in
                guard !k.server.isEmpty else { throw fail(.invalid, "\(field).server", "server is missing") }
                guard !k.topic.isEmpty else { throw fail(.invalid, "\(field).topic", "topic is missing") }
                do throws(ConfigError) {
                    _ = try k.startPosition()
                    _ = try k.librdkafkaProperties()
                } catch {
                    throw fail(.badValue, "\(field).\(error.path)", error.reason)
                }
            }
        }
        for (d, field) in [(datahubTrainInput, "datahub_train_input"), (datahubEvalInput, "datahub_eval_input")] {
            guard let d else { continue }
            check { () throws(ConfigError) in
                for (value, name) in [(d.akID, "akId"), (d.akSecret, "akSecret"), (d.region, "region"), (d.project, "project"), (d.topic, "topic")]
                where value.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw fail(.invalid, "\(field).\(name)", "\(name) is missing")
                }
                do throws(ConfigError) {
                    _ = try d.startPosition()
                } catch {
                    throw fail(.badValue, "\(field).\(error.path)", error.reason)
                }
            }
        }
        return found
    }

    private func validateModel(_ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
        let model = proto.modelConfig
        guard proto.hasModelConfig else { throw fail(.invalid, "model_config", "model_config is missing") }
        guard model.hasModelClass, !model.modelClass.isEmpty else {
            throw fail(.invalid, "model_config.model_class", "model_class is missing (odl supports \"DeepFM\")")
        }
        guard model.modelClass == "DeepFM" else {
            throw fail(.unsupported, "model_config.model_class",
                       "model_class \"\(model.modelClass)\" is not supported: odl implements \"DeepFM\" only")
        }
        guard case .deepfm(let deepfm)? = model.model else {
            throw fail(.invalid, "model_config.deepfm", "model_class DeepFM needs a deepfm { ... } block")
        }
        try checkDNN(deepfm.dnn, present: deepfm.hasDnn, path: "model_config.deepfm.dnn", fail)
        if deepfm.hasFinalDnn {
            try checkDNN(deepfm.finalDnn, present: true, path: "model_config.deepfm.final_dnn", fail)
        }
        guard deepfm.wideOutputDim >= 1 else {
            throw fail(.badValue, "model_config.deepfm.wide_output_dim", "wide_output_dim must be at least 1")
        }
        if !deepfm.hasFinalDnn, deepfm.wideOutputDim != 1 {
            throw fail(.invalid, "model_config.deepfm.wide_output_dim",
                       "wide_output_dim \(deepfm.wideOutputDim) needs final_dnn (without it the wide part is added to the logit, so it must be 1)")
        }
        guard model.numClass == 1 else {
            throw fail(.unsupported, "model_config.num_class", "num_class \(model.numClass): odl's DeepFM is binary (num_class 1)")
        }

    }

    private func validateGroups(features: [EasyRec_FeatureConfig], byName: [String: EasyRec_FeatureConfig],
                                _ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
        let groups = proto.modelConfig.featureGroups
        var seenGroups: Set<String> = []
        for (gi, g) in groups.enumerated() where !seenGroups.insert(g.groupName).inserted {
            throw fail(.invalid, "model_config.feature_groups[\(gi)].group_name", "group \"\(g.groupName)\" appears twice")
        }
        for required in ["wide", "deep"] where !seenGroups.contains(required) {
            throw fail(.invalid, "model_config.feature_groups",
                       "DeepFM needs a feature group named \"\(required)\"")
        }
        // With fg_json_path and no features in the config, features come from fg.json later.
        let featuresFromFG = features.isEmpty && proto.hasFgJsonPath && !proto.fgJsonPath.isEmpty
        var deepDim: (dim: UInt32, feature: String)?
        for (gi, g) in groups.enumerated() where g.groupName == "wide" || g.groupName == "deep" {
            let gpath = "model_config.feature_groups[\(gi)].feature_names"
            guard !g.featureNames.isEmpty else {
                throw fail(.invalid, gpath, "group \"\(g.groupName)\" has no features")
            }
            if featuresFromFG { continue }
            for name in g.featureNames {
                guard let f = byName[name] else {
                    throw fail(.invalid, gpath, "group \"\(g.groupName)\" names feature \"\(name)\" which no feature config defines")
                }
                guard g.groupName == "deep" else { continue }
                guard f.embeddingDim > 0 else {
                    throw fail(.invalid, gpath, "deep feature \"\(name)\" needs embedding_dim > 0")
                }
                if let d = deepDim, d.dim != f.embeddingDim {
                    throw fail(.invalid, gpath,
                               "deep features share one FM space: \"\(name)\" has embedding_dim \(f.embeddingDim) but \"\(d.feature)\" has \(d.dim)")
                }
                deepDim = deepDim ?? (f.embeddingDim, name)
            }
        }

    }

    private func validateData(_ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
        let data = proto.dataConfig
        if proto.hasDataConfig {
            guard data.batchSize >= 1 else { throw fail(.badValue, "data_config.batch_size", "batch_size must be at least 1") }
            var seen: Set<String> = []
            for (i, field) in data.inputFields.enumerated() {
                guard !field.inputName.isEmpty else {
                    throw fail(.invalid, "data_config.input_fields[\(i)].input_name", "input field without input_name")
                }
                guard seen.insert(field.inputName).inserted else {
                    throw fail(.invalid, "data_config.input_fields[\(i)].input_name", "input field \"\(field.inputName)\" appears twice")
                }
            }
            if !data.inputFields.isEmpty {
                for label in data.labelFields where !seen.contains(label) {
                    throw fail(.invalid, "data_config.label_fields", "label field \"\(label)\" is not one of input_fields")
                }
            }
        }

    }

    private func validateOptimizer(_ o: EasyRec_Optimizer, path opath: String,
                                   _ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
            let lr: EasyRec_LearningRate
            let has: Bool
            let sub: String
            switch o.optimizer {
            case .adamOptimizer(let a)?: (lr, has, sub) = (a.learningRate, a.hasLearningRate, "adam_optimizer")
            case .momentumOptimizer(let m)?: (lr, has, sub) = (m.learningRate, m.hasLearningRate, "momentum_optimizer")
            case .adagradOptimizer(let a)?: (lr, has, sub) = (a.learningRate, a.hasLearningRate, "adagrad_optimizer")
            case nil:
                throw fail(.invalid, opath, "optimizer_config needs adam_optimizer, momentum_optimizer or adagrad_optimizer")
            }
            guard has, lr.learningRate != nil else {
                throw fail(.invalid, "\(opath).\(sub).learning_rate",
                           "learning_rate needs constant_learning_rate or exponential_decay_learning_rate")
            }
            if case .exponentialDecayLearningRate(let e)? = lr.learningRate, e.decaySteps == 0 {
                throw fail(.badValue, "\(opath).\(sub).learning_rate.exponential_decay_learning_rate.decay_steps",
                           "decay_steps must be at least 1")
            }
    }

    private func validateTrainRest(_ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
        let train = proto.trainConfig
        if train.hasDeadLine {
            do throws(ConfigError) {
                _ = try train.deadLineSeconds()
            } catch {
                throw fail(.badValue, "train_config.dead_line", error.reason)
            }
        }
        if train.hasIncrSaveConfig {
            let incr = train.incrSaveConfig
            let ipath = "train_config.incr_save_config"
            for (v, n) in [(incr.sparseSaveSecs, "sparse_save_secs"), (incr.denseSaveSecs, "dense_save_secs"),
                           (incr.sparseSaveSteps, "sparse_save_steps"), (incr.denseSaveSteps, "dense_save_steps")] where v < 0 {
                throw fail(.badValue, "\(ipath).\(n)", "\(n) must not be negative")
            }
            switch incr.incrUpdate {
            case .kafka(let k)?:
                guard !k.server.isEmpty else { throw fail(.invalid, "\(ipath).kafka.server", "kafka.server is missing") }
                guard !k.topic.isEmpty else { throw fail(.invalid, "\(ipath).kafka.topic", "kafka.topic is missing") }
                guard k.consumer.offset >= 0 else {
                    throw fail(.badValue, "\(ipath).kafka.consumer.offset", "offset must not be negative")
                }
            case .fs(let f)?:
                guard !f.incrSaveDir.isEmpty else { throw fail(.invalid, "\(ipath).fs.incr_save_dir", "incr_save_dir is empty") }
            case nil:
                break
            }
        }
    }

    private func checkDNN(_ dnn: EasyRec_DNN, present: Bool, path: String,
                          _ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
        guard present else { throw fail(.invalid, path, "the dnn block is missing") }
        guard !dnn.hiddenUnits.isEmpty else { throw fail(.invalid, path + ".hidden_units", "hidden_units is empty") }
        guard dnn.hiddenUnits.allSatisfy({ $0 > 0 }) else {
            throw fail(.badValue, path + ".hidden_units", "hidden_units must be positive")
        }
        guard dnn.dropoutRatio.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
            throw fail(.badValue, path + ".dropout_ratio", "dropout_ratio must be in [0, 1)")
        }
        // Serving and training both compute relu layers (deepfm.md step 4); another activation
        // would silently give other scores than the model was trained for.
        guard dnn.activationName == "relu" else {
            throw fail(.badValue, path + ".activation", "activation \"\(dnn.activation)\" is not supported: odl's DNN layers use relu (tf.nn.relu)")
        }
    }

    private func checkFeature(_ f: EasyRec_FeatureConfig, name: String, prefix: String, inputFields: Set<String>,
                              _ fail: (ConfigError.Kind, String, String) -> ConfigError) throws(ConfigError) {
        if !inputFields.isEmpty {
            for input in f.inputNames where !inputFields.contains(input) {
                throw fail(.invalid, prefix + ".input_names",
                           "feature \"\(name)\": input \"\(input)\" is not one of data_config.input_fields")
            }
        }
        guard !f.inputNames.isEmpty else {
            throw fail(.invalid, prefix + ".input_names", "feature \"\(name)\" has no input_names")
        }
        switch f.featureType {
        case .idFeature, .tagFeature:
            guard f.hashBucketSize > 0 || f.numBuckets > 0 || !f.vocabList.isEmpty || f.hasEvParams else {
                throw fail(.invalid, prefix, "feature \"\(name)\" needs hash_bucket_size, num_buckets, vocab_list or ev_params")
            }
        case .comboFeature:
            guard f.inputNames.count >= 2 else {
                throw fail(.invalid, prefix + ".input_names", "combo feature \"\(name)\" needs at least two input_names")
            }
            guard f.hashBucketSize > 0 || f.hasEvParams else {
                throw fail(.invalid, prefix + ".hash_bucket_size", "combo feature \"\(name)\" needs hash_bucket_size")
            }
        case .rawFeature:
            for i in f.boundaries.indices.dropFirst() where !(f.boundaries[i - 1] < f.boundaries[i]) {
                throw fail(.badValue, prefix + ".boundaries", "feature \"\(name)\": boundaries must be increasing")
            }
        case .lookupFeature, .sequenceFeature:
            break
        }
        guard ["sum", "mean", "sqrtn"].contains(f.combiner) else {
            throw fail(.badValue, prefix + ".combiner", "feature \"\(name)\": combiner \"\(f.combiner)\" is not sum, mean or sqrtn")
        }
    }
}

/// Where a field appeared in the config text.
struct TextPosition: Sendable, Equatable {
    var line: Int
    var column: Int
}
