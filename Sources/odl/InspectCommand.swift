import ArgumentParser
import Bench
import EasyRec
import Export
import Inference

/// `odl inspect MODEL_DIR`: what `saved_model_cli show --all` prints for an EasyRec export
/// (signatures), then every variable with its shape, update id and file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an exported model's signatures and variables (like saved_model_cli show --all).",
        usage: "odl inspect <model-dir> [--embedding-dir <embedding-dir>]")

    @Argument(help: "Export folder (its newest numeric version is used) or version folder.")
    var modelDir: String?

    @Option(name: .customLong("embedding-dir"), help: "Embeddings location if exported separately (path or URL).")
    var embeddingDir: String?

    @Flag(name: .customLong("bench"), help: .hidden)
    var bench = false

    @Option(name: .customLong("bench-sections"), help: .hidden)
    var benchSections = "forward,apply,load,fuzz"

    @Option(name: .customLong("bench-dir"), help: .hidden)
    var benchDir: String?

    func run() throws {
        if bench {
            let sections = Set(benchSections.split(separator: ",").map(String.init))
            if sections.contains("forward") { try InferenceBenchmark.forward().forEach { print($0) } }
            if sections.contains("apply") { try InferenceBenchmark.sparseApply().forEach { print($0) } }
            if sections.contains("load") { try InferenceBenchmark.loadExport(dir: benchDir).forEach { print($0) } }
            if sections.contains("fuzz") { InferenceBenchmark.fuzz().forEach { print($0) } }
            return
        }
        guard let modelDir else { throw ValidationError("MODEL_DIR is required") }
        do {
            if EasyRecExport.isExport(modelDir) {
                print(EasyRecInspector.describe(try EasyRecExport(directory: modelDir)), terminator: "")
                return
            }
            print(try ExportInspector.describe(modelDir, embeddingDir: embeddingDir), terminator: "")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
