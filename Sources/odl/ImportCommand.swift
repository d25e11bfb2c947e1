import ArgumentParser
import EasyRec
import Export
import Inference

/// `odl import EASYREC_EXPORT --out DIR`: converts a real EasyRec SavedModel export into an odl
/// export version folder `<DIR>/<unix seconds>` (EasyRec's ids and update settings kept).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert an EasyRec SavedModel export (saved_model.pb + variables/ + assets/) into odl's export format.")

    @Argument(help: "The EasyRec export folder (holds saved_model.pb).")
    var easyRecExport: String

    @Option(name: .customLong("out"), help: "Export folder to write; the version folder is <out>/<unix seconds>.")
    var out: String

    func run() throws {
        guard EasyRecExport.isExport(easyRecExport) else {
            throw ValidationError("\(easyRecExport): no saved_model.pb (not an EasyRec SavedModel export)")
        }
        do {
            let export = try EasyRecExport(directory: easyRecExport)
            let versionDir = ExportWriter.newVersionDir(exportDir: out)
            try EasyRecImport.write(export, versionDir: versionDir)
            print("imported \(export.mapping.count) variables (ids \(export.idsSource)) into \(versionDir)")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
