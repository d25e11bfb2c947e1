import Config
import Export
import FG
import Foundation
import Inference
import Logging
import Storage

/// `odl export`: a checkpoint into an export version folder (formats.md section 2).
public enum ModelExporter {
    /// Options of one export.
    public struct Options: Sendable {
        public var configPath: String
        public var editConfigJSON: String?
        /// A `model.ckpt-<step>` folder, or a directory meaning its latest checkpoint.
        public var checkpointPath: String
        public var exportDir: String
        /// Where embeddings go instead of the version folder: a local path or an http(s):// URL.
        public var embeddingDir: String?
        /// Extra files copied into the version folder (fg.json among them becomes the export's fg.json).
        public var assetFiles: [String]

        public init(configPath: String, editConfigJSON: String? = nil, checkpointPath: String, exportDir: String,
                    embeddingDir: String? = nil, assetFiles: [String] = []) {
            self.configPath = configPath
            self.editConfigJSON = editConfigJSON
            self.checkpointPath = checkpointPath
            self.exportDir = exportDir
            self.embeddingDir = embeddingDir
            self.assetFiles = assetFiles
        }
    }

    /// Writes `<export_dir>/<unix time>/` and returns its path.
    @discardableResult
    public static func export(_ o: Options, logger: Logger) throws -> String {
        let config = try TrainerConfig.load(path: o.configPath, edits: o.editConfigJSON, modelDir: nil, logger: logger,
                                            requireModelDir: false)
        let (ref, contents) = try CheckpointStore.load(path: o.checkpointPath, spec: config.spec)
        let fm = FileManager.default
        // export_dir, embedding_dir and asset files may be local paths or object-store URLs: the
        // version is written to a local staging folder and published (renamed, or uploaded with
        // its manifest last) only when complete.
        let targets: Targets
        do { targets = try Targets(o) } catch { throw TrainerError.export(path: o.exportDir, reason: error.description) }
        let (versionLocation, temp, embeddings) = (targets.version, targets.staging, targets.embeddings)
        let final = versionLocation.url

        var fgJSON = config.fgJSON
        var assets: [(name: String, data: Data)] = []
        for a in o.assetFiles where !a.isEmpty {
            let data: Data
            do { data = Data(try Storage.location(a).read()) } catch {
                throw TrainerError.export(path: a, reason: "asset file not readable: \(error)")
            }
            let name = (a as NSString).lastPathComponent
            if name == "fg.json" {
                if fgJSON == nil { fgJSON = String(decoding: data, as: UTF8.self) }
                continue
            }
            assets.append((name, data))
        }

        var kafka: KafkaInfo?
        var incr: IncrUpdateInfo?
        let tc = config.pipeline.proto.trainConfig
        if tc.hasIncrSaveConfig {
            switch tc.incrSaveConfig.incrUpdate {
            case .kafka(let k)?:
                // Updates newer than this checkpoint start at the offset it recorded; a checkpoint that never
                // sent updates falls back to the configured consumer offset (0 by default).
                let offset = contents.updateOffsets[0] ?? k.consumer.offset
                let info = KafkaInfo(server: k.server, topic: k.topic, offset: offset,
                                     offsets: contents.updateOffsets.isEmpty ? nil : contents.updateOffsets)
                kafka = info
                incr = .kafka(info)
            case .fs(let f)?:
                let dir = f.mountPath.isEmpty
                    ? (f.relative ? ((TrainerConfig.absolute(config.pipeline.proto.modelDir)) as NSString).appendingPathComponent(f.incrSaveDir) : f.incrSaveDir)
                    : (f.mountPath as NSString).appendingPathComponent(f.incrSaveDir)
                incr = .fs(incrSaveDir: dir)
            default:
                break
            }
        }
        do {
            try ExportWriter.write(versionDir: temp, spec: config.spec, parameters: contents.parameters,
                                   pipelineConfig: config.pipeline.textFormat(), fgJSON: fgJSON, kafka: kafka,
                                   incrUpdate: incr, globalStep: Int64(contents.globalStep),
                                   embeddingDir: embeddings?.staging ?? o.embeddingDir)
        } catch {
            try? fm.removeItem(atPath: temp)
            if let embeddings { try? fm.removeItem(atPath: embeddings.staging) }
            throw TrainerError.export(path: final, reason: "\(error)")
        }
        for a in assets {
            guard fm.createFile(atPath: (temp as NSString).appendingPathComponent(a.name), contents: a.data) else {
                throw TrainerError.export(path: temp, reason: "cannot copy asset \(a.name)")
            }
        }
        do {
            try targets.publish()
        } catch {
            try? fm.removeItem(atPath: temp)
            throw TrainerError.export(path: final, reason: error.description)
        }
        logger.info("exported \(ref.path) (step \(contents.globalStep)) to \(final)")
        return final
    }

    /// Where one export goes: its version location and local staging folder, and the staging
    /// folder of object-store embeddings.
    struct Targets {
        let version: StorageLocation
        let staging: String
        let embeddings: (location: StorageLocation, staging: String)?

        init(_ o: Options) throws(StorageError) {
            let root = try Storage.location(o.exportDir)
            var name = Int(Date().timeIntervalSince1970)
            while try root.appending(String(name)).isPublished() { name += 1 }
            version = root.appending(String(name))
            staging = try version.makeStaging()
            if let e = o.embeddingDir, Storage.isObjectURL(e) {
                let loc = try Storage.location(e)
                embeddings = (loc, try loc.makeStaging())
            } else {
                embeddings = nil
            }
        }

        /// Embeddings first: the version becomes visible last, when everything it needs is there.
        func publish() throws(StorageError) {
            if let embeddings { try embeddings.location.publish(staging: embeddings.staging) }
            try version.publish(staging: staging)
        }
    }
}
