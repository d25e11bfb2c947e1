import Config
import FG
import Foundation
import Inference
import TensorFlowIO

/// A real EasyRec DeepFM export (the SavedModel folder `python -m easy_rec.python.export`
/// writes: `saved_model.pb`, `variables/`, `assets/pipeline.config` [+ fg.json, kafka.txt,
/// incr_update.txt, DENSE_UPDATE_VARIABLES, embed_name_to_ids.txt]) read as odl's model.
public struct EasyRecExport: Sendable {
    /// The SavedModel folder.
    public let directory: String
    /// `assets/pipeline.config`.
    public let config: PipelineConfig
    /// Its text, as written by EasyRec.
    public let pipelineConfigText: String
    /// odl's model, with EasyRec's dense and table ids.
    public let spec: ModelSpec
    /// The serving signature and graph facts.
    public let signature: SavedModelSignature
    /// Every model variable: EasyRec's checkpoint name -> odl's name.
    public let mapping: [VariableMapping]
    /// Where the ids came from: the export's own id files, or derived from the graph.
    public let idsSource: String
    /// `global_step` of the exported variables.
    public let globalStep: Int64?
    /// The export's parameters in odl's layout.
    public let parameters: ModelParameters

    /// True when `path` is a SavedModel folder (has `saved_model.pb`).
    public static func isExport(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("saved_model.pb"))
    }

    /// Reads and converts the export at `directory`.
    public init(directory: String) throws(EasyRecError) {
        self.directory = directory
        let assets = directory + "/assets"
        let configPath = assets + "/pipeline.config"
        guard FileManager.default.fileExists(atPath: configPath) else { throw .missingFile(configPath) }
        do {
            let text = try String(contentsOfFile: configPath, encoding: .utf8)
            config = try Self.groupsInTensorFlowOrder(try PipelineConfig.load(text: text, source: configPath))
            pipelineConfigText = config.textFormat()
        } catch let e as ConfigError {
            throw .config(path: configPath, reason: e.description)
        } catch {
            throw .config(path: configPath, reason: "\(error)")
        }
        let modelClass = config.proto.modelConfig.modelClass
        guard modelClass == "DeepFM" else { throw .unsupportedModel(path: configPath, modelClass: modelClass) }
        let baseSpec: ModelSpec
        do { baseSpec = try ModelSpec(config: config) } catch {
            throw .config(path: configPath, reason: "cannot build the DeepFM: \(error)")
        }
        do { signature = try SavedModelSignature(directory: directory) } catch { throw .tensorFlow(error) }
        let ids = try EasyRecIds.resolve(assets: assets, graphVariables: signature.variables, spec: baseSpec)
        idsSource = ids.source
        do { spec = try baseSpec.renumbered(dense: ids.dense, tables: ids.tables) } catch {
            throw .badFile(path: assets, reason: "ids do not fit the model: \(error)")
        }
        let bundle: TensorBundle
        do { bundle = try TensorBundle(prefix: directory + "/variables/variables") } catch { throw .tensorFlow(error) }
        let read = try EasyRecParameters.read(bundle: bundle, spec: spec)
        mapping = read.mapping
        parameters = read.parameters
        globalStep = read.globalStep
    }

    /// The config with each feature group's features in the order TensorFlow's input layer
    /// concatenates them: sorted by embedding column name (``EasyRecNaming/columnName(_:)``),
    /// which is the row order of `deep_feature/dnn_0/kernel`.
    static func groupsInTensorFlowOrder(_ config: PipelineConfig) throws(ConfigError) -> PipelineConfig {
        var proto = config.proto
        var columnNames: [String: String] = [:]
        for fc in config.allFeatureConfigs {
            if let column = try? FeatureColumnSpec(config: fc) { columnNames[fc.resolvedName] = EasyRecNaming.columnName(column) }
        }
        for g in proto.modelConfig.featureGroups.indices {
            proto.modelConfig.featureGroups[g].featureNames.sort { (columnNames[$0] ?? $0) < (columnNames[$1] ?? $1) }
        }
        return try PipelineConfig(proto: proto)
    }

    /// The optional asset `name` (fg.json, kafka.txt, incr_update.txt), when present.
    public func asset(_ name: String) -> String? {
        try? String(contentsOfFile: directory + "/assets/" + name, encoding: .utf8)
    }
}

/// One EasyRec variable and where odl puts it.
public struct VariableMapping: Sendable, Equatable {
    public enum Role: String, Sendable { case wideTable = "wide table", deepTable = "deep table", dense }
    /// EasyRec's checkpoint name (`input_layer/user_id_embedding/embedding_weights`).
    public var easyRecName: String
    /// odl's name (`input_layer/user_id_embedding`, `deep_feature/dnn_0/kernel`).
    public var odlName: String
    public var role: Role
    /// The id in `embed_name_to_ids.txt` (tables) or `DENSE_UPDATE_VARIABLES` (dense).
    public var id: Int
    public var shape: [Int]
}
