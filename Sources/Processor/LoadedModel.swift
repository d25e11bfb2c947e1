import Config
import EasyRec
import Export
import FG
import Foundation
import Inference

/// A base model loaded from an export: spec, live parameter store, feature mode, update settings.
public struct LoadedModel: Sendable {
    public var versionDir: String
    public var manifest: ExportManifest
    public var store: ParameterStore
    public var mode: FeatureMode

    /// Resolve the version folder, read the manifest and pipeline config, build the model and
    /// load every parameter. Errors name the file at fault.
    /// An EasyRec SavedModel export (`saved_model.pb`) is converted once into odl's format in a
    /// cache folder (``EasyRecImport/servingCopy(of:cacheRoot:)``) and served from there.
    /// `sortedKVMinRows`: see ``ServeOptions/sortedKVMinRows``; `embeddingDType`: see
    /// ``ServeOptions/embeddingDType``. `onManifest` runs once the manifest is read, before the
    /// parameters load (the server starts its update stream there); its error ends the load.
    public static func load(path: String, embeddingDir: String?, limits: ServeLimits,
                            sortedKVMinRows: Int = ExportReader.defaultSortedKVMinRows,
                            releaseMappedAfterUse: Bool = false, embeddingDType: EmbeddingDType = .f32,
                            onManifest: (ExportManifest) throws(ServeError) -> Void = { _ in }) throws(ServeError) -> LoadedModel {
        // Object-store exports are copied to local scratch, loaded (tables are mapped, so the copy
        // can go right after) and then reported under their URL.
        let source = try ModelFetch.localVersion(path)
        let embeddings = try embeddingDir.map { (d: String) throws(ServeError) in try ModelFetch.localEmbeddings(d) }
        defer {
            if source.temporary { try? FileManager.default.removeItem(atPath: source.path) }
            if let embeddings, embeddings.temporary { try? FileManager.default.removeItem(atPath: embeddings.path) }
        }
        var loaded = try loadLocal(path: source.path, embeddingDir: embeddings?.path, limits: limits, sortedKVMinRows: sortedKVMinRows,
                                   releaseMappedAfterUse: releaseMappedAfterUse, embeddingDType: embeddingDType,
                                   onManifest: onManifest)
        if source.temporary { loaded.versionDir = source.display }
        return loaded
    }

    static func loadLocal(path: String, embeddingDir: String?, limits: ServeLimits,
                          sortedKVMinRows: Int, releaseMappedAfterUse: Bool, embeddingDType: EmbeddingDType = .f32,
                          onManifest: (ExportManifest) throws(ServeError) -> Void = { _ in }) throws(ServeError) -> LoadedModel {
        let versionDir: String
        let manifest: ExportManifest
        var path = path
        if EasyRecExport.isExport(path) {
            do {
                path = try EasyRecImport.servingCopy(of: path, cacheRoot: NSTemporaryDirectory() + "odl-easyrec-imports").versionDir
            } catch {
                throw ServeError("EasyRec export \(path): \(error.description)")
            }
        }
        do {
            versionDir = try ExportReader.resolveVersionDir(path)
            manifest = try ExportReader.readManifest(versionDir)
        } catch {
            throw ServeError("export \(path): \(error.description)")
        }
        try onManifest(manifest)
        let config: PipelineConfig
        do {
            config = try PipelineConfig.load(text: manifest.pipelineConfig, source: versionDir + "/pipeline.config")
        } catch {
            throw ServeError("\(versionDir)/pipeline.config: \(error.description)")
        }
        let spec: ModelSpec
        do {
            // The ids are the export's (odl's own order, or EasyRec's for an imported export); when
            // its names do not fit the model, loadStore's validation names the mismatch.
            let base = try ModelSpec(config: config)
            spec = (try? base.renumbered(dense: manifest.denseVariableIds, tables: manifest.embeddingIds)) ?? base
        } catch {
            throw ServeError("\(versionDir)/pipeline.config: cannot build the model: \(error)")
        }
        let store: ParameterStore
        do {
            store = try ExportReader.loadStore(versionDir, spec: spec, embeddingDir: embeddingDir, sortedKVMinRows: sortedKVMinRows,
                                               releaseMappedAfterUse: releaseMappedAfterUse, embeddingDType: embeddingDType)
        } catch {
            throw ServeError("export \(versionDir): \(error.description)")
        }
        let mode: FeatureMode
        if let fgJSON = manifest.fgJSON {
            do {
                let fg = try FGConfig(jsonString: fgJSON)
                mode = .fg(FGPlan(config: fg, limits: FGLimits(maxItems: limits.maxItems,
                                                                maxValuesPerInput: limits.maxValuesPerFeature)))
            } catch {
                throw ServeError("\(versionDir)/fg.json: \(error.description)")
            }
        } else {
            let inputFields = config.proto.dataConfig.inputFields.map(\.inputName)
            var defaults: [String: String] = [:]
            for f in config.proto.dataConfig.inputFields where f.hasDefaultVal { defaults[f.inputName] = f.defaultVal }
            mode = .bypass(SampleSchema(specs: spec.columns, inputFields: inputFields).withDefaults(defaults))
        }
        return LoadedModel(versionDir: versionDir, manifest: manifest, store: store, mode: mode)
    }

    public init(versionDir: String, manifest: ExportManifest, store: ParameterStore, mode: FeatureMode) {
        self.versionDir = versionDir
        self.manifest = manifest
        self.store = store
        self.mode = mode
    }

    /// The export's version: the name of its version folder (unix seconds of the export).
    public var version: String { URL(fileURLWithPath: versionDir).lastPathComponent }
}
