import Config
import FG
import Foundation
import Inference
import Logging
import Storage

/// Where incremental updates go.
public enum IncrementalTarget: Sendable, Equatable {
    case kafka(server: String, topic: String)
    case fs(directory: String)
}

/// A pipeline config resolved into what the trainer and exporter need.
public struct TrainerConfig {
    public var pipeline: PipelineConfig
    /// Absolute model_dir.
    public var modelDir: String
    public var spec: ModelSpec
    public var layout: SampleLayout
    public var encoder: any BatchEncoding
    /// fg.json text when the model is fg-based.
    public var fgJSON: String?
    public var trainingSettings: TrainingSettings
    public var incremental: (settings: IncrementalSaveSettings, target: IncrementalTarget)?

    /// Loads `path`, applies `edits` (edit_config_json) and the model_dir override, logs warnings.
    public static func load(path: String, edits: String?, modelDir: String?, logger: Logger,
                            requireModelDir: Bool = true) throws -> TrainerConfig {
        var pipeline = try PipelineConfig.load(path: path)
        for w in pipeline.warnings { logger.warning("config: unsupported field \(w.path) ignored (\(w.source):\(w.line))") }
        if let e = edits, !e.trimmingCharacters(in: .whitespaces).isEmpty { try pipeline.applyEdits(json: e) }
        for note in TrainerConfig.ignoredSettings(pipeline) { logger.warning("config: \(note)") }
        if let m = modelDir { pipeline.proto.modelDir = m }
        return try TrainerConfig(pipeline: pipeline, configDirectory: (path as NSString).deletingLastPathComponent,
                                 requireModelDir: requireModelDir)
    }

    /// Settings that load but do not change what odl trains: dropout (odl trains without it) and
    /// use_moving_average (odl exports the trained weights themselves).
    public static func ignoredSettings(_ pipeline: PipelineConfig) -> [String] {
        var notes: [String] = []
        let deepfm = pipeline.proto.modelConfig.deepfm
        for (path, dnn) in [("model_config.deepfm.dnn", deepfm.dnn), ("model_config.deepfm.final_dnn", deepfm.finalDnn)]
        where dnn.dropoutRatio.contains(where: { $0 > 0 }) {
            notes.append("\(path).dropout_ratio \(dnn.dropoutRatio) is not applied: odl trains without dropout")
        }
        if pipeline.proto.trainConfig.optimizerConfig.contains(where: { $0.useMovingAverage }) {
            notes.append("train_config.optimizer_config.use_moving_average is not applied: the export holds the trained weights")
        }
        return notes
    }

    public init(pipeline: PipelineConfig, configDirectory: String, requireModelDir: Bool = true) throws {
        var pipeline = pipeline
        let proto = pipeline.proto
        if requireModelDir, proto.modelDir.isEmpty {
            throw TrainerError.config(field: "model_dir", reason: "not set (use --model-dir)")
        }
        modelDir = TrainerConfig.absolute(proto.modelDir)
        if !proto.fgJsonPath.isEmpty {
            let fgPath = proto.fgJsonPath.hasPrefix("/") ? proto.fgJsonPath
                : (configDirectory as NSString).appendingPathComponent(proto.fgJsonPath)
            let resolved = FileManager.default.fileExists(atPath: fgPath) ? fgPath : TrainerConfig.absolute(proto.fgJsonPath)
            guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                throw TrainerError.config(field: "fg_json_path", reason: "cannot read \(resolved)")
            }
            fgJSON = text
            try FGFeatureConfigs.complete(&pipeline, fgJSON: text)
        }
        self.pipeline = pipeline
        spec = try ModelSpec(config: pipeline)
        layout = try TrainerConfig.layout(pipeline.proto.dataConfig, fgBased: fgJSON != nil)
        encoder = try FGBatchEncoder(spec: spec, layout: layout, fgBased: fgJSON != nil)
        let tc = pipeline.proto.trainConfig
        let dc = pipeline.proto.dataConfig
        guard dc.batchSize > 0 else { throw TrainerError.config(field: "data_config.batch_size", reason: "must be positive") }
        trainingSettings = TrainingSettings(
            batchSize: Int(dc.batchSize), numSteps: Int(tc.numSteps),
            saveCheckpointsSteps: Int(tc.saveCheckpointsSteps),
            saveCheckpointsSeconds: tc.hasSaveCheckpointsSecs && tc.saveCheckpointsSecs > 0 ? Double(tc.saveCheckpointsSecs) : nil,
            keepCheckpointMax: Int(tc.keepCheckpointMax), logStepCountSteps: Int(tc.logStepCountSteps),
            deadline: try tc.deadLineSeconds().map(Double.init))
        if tc.hasIncrSaveConfig, let target = tc.incrSaveConfig.incrUpdate {
            let i = tc.incrSaveConfig
            func pos(_ v: Int32) -> Int? { v > 0 ? Int(v) : nil }
            let s = IncrementalSaveSettings(denseSteps: pos(i.denseSaveSteps), denseSeconds: pos(i.denseSaveSecs).map(Double.init),
                                            sparseSteps: pos(i.sparseSaveSteps), sparseSeconds: pos(i.sparseSaveSecs).map(Double.init),
                                            debugSaveUpdate: i.debugSaveUpdate)
            switch target {
            case .kafka(let k):
                guard !k.server.isEmpty, !k.topic.isEmpty else {
                    throw TrainerError.config(field: "train_config.incr_save_config.kafka", reason: "server and topic are required")
                }
                incremental = (s, .kafka(server: k.server, topic: k.topic))
            case .fs(let f):
                if f.relative && Storage.isObjectURL(modelDir) {
                    throw TrainerError.config(field: "train_config.incr_save_config.fs.relative",
                                              reason: "a relative incr_save_dir under an object-store model_dir (\(modelDir)) is not supported; give an absolute path or URL")
                }
                let dir = f.relative ? (modelDir as NSString).appendingPathComponent(f.incrSaveDir) : TrainerConfig.absolute(f.incrSaveDir)
                incremental = (s, .fs(directory: dir))
            }
        }
    }

    /// The sample line layout of `data_config`.
    static func layout(_ dc: EasyRec_DatasetConfig, fgBased: Bool) throws -> SampleLayout {
        let fields = dc.inputFields.map { f -> SampleLayout.Field in
            let t: SampleLayout.FieldType
            switch f.inputType {
            case .int32: t = .int32
            case .int64: t = .int64
            case .float: t = .float
            case .double: t = .double
            case .bool: t = .bool
            default: t = .string
            }
            return SampleLayout.Field(name: f.inputName, type: t, defaultValue: f.defaultVal)
        }
        return try SampleLayout(fields: fields, labelFields: dc.labelFields, separator: dc.separator)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") || Storage.isObjectURL(path) ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }
}
