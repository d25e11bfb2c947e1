import ArgumentParser
import Foundation
import Logging
import Trainer

/// `odl export`: writes a base model from a checkpoint (EasyRec's `-Dcmd=export`).
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint as a base model folder <export-dir>/<unix time>/ for the processor.")

    @Option(help: "Pipeline config file (EasyRec protobuf text format).")
    var config: String

    @Option(name: .customLong("edit-config-json"), help: "JSON object of dotted config paths to new values.")
    var editConfigJson: String?

    @Option(name: .customLong("checkpoint-path"), help: "A model.ckpt-<step> folder, or a model_dir (its latest checkpoint).")
    var checkpointPath: String

    @Option(name: .customLong("export-dir"), help: "Parent folder of the version folders.")
    var exportDir: String

    @Option(name: .customLong("embedding-dir"), help: "Write embeddings here instead: a local path or an http(s):// URL (PUT).")
    var embeddingDir: String?

    @Option(name: .customLong("asset-files"), help: "Comma-separated files copied into the export (fg.json among them).")
    var assetFiles: String?

    @OptionGroup var storage: StorageFlags

    func run() async throws {
        storage.apply()
        let options = ModelExporter.Options(configPath: config, editConfigJSON: editConfigJson, checkpointPath: checkpointPath,
                                            exportDir: exportDir, embeddingDir: embeddingDir,
                                            assetFiles: (assetFiles ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        let logger = Logger(label: "odl.export")
        let path = try await withCheckedThrowingContinuation { (cont: CheckedContinuation<String, any Error>) in
            let thread = Thread {
                do {
                    cont.resume(returning: try ModelExporter.export(options, logger: logger))
                } catch {
                    cont.resume(throwing: error)
                }
            }
            thread.name = "odl-export"
            thread.start()
        }
        print(path)
    }
}
