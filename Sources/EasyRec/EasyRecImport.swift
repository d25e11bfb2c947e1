import Export
import Foundation
import Inference

/// `odl import`: writes an EasyRec export as an odl export version folder (formats.md
/// section 2) with EasyRec's ids, copying its update-stream settings (kafka.txt /
/// incr_update.txt) and fg.json.
public enum EasyRecImport {
    /// Writes `export` into `versionDir` (which must not exist).
    public static func write(_ export: EasyRecExport, versionDir: String) throws(EasyRecError) {
        do {
            try ExportWriter.write(versionDir: versionDir, spec: export.spec, parameters: export.parameters,
                                   pipelineConfig: export.pipelineConfigText, fgJSON: export.asset("fg.json"),
                                   globalStep: export.globalStep)
        } catch {
            throw .write(path: versionDir, reason: error.description)
        }
        for name in ["kafka.txt", "incr_update.txt"] {
            guard let text = export.asset(name) else { continue }
            do { try text.write(toFile: versionDir + "/" + name, atomically: true, encoding: .utf8) } catch {
                throw .write(path: versionDir + "/" + name, reason: "\(error)")
            }
        }
    }

    /// The odl export folder `odl serve` uses for an EasyRec export: converted once into a
    /// cache folder keyed by the export's path and the modification time of its variables.
    public static func servingCopy(of directory: String, cacheRoot: String) throws(EasyRecError) -> (versionDir: String, export: EasyRecExport) {
        let export = try EasyRecExport(directory: directory)
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/variables/variables.index")
        let stamp = Int64((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        var hasher = FNV1a()
        hasher.add((directory as NSString).standardizingPath)
        let dir = cacheRoot + "/" + String(hasher.value, radix: 16) + "/" + String(stamp)
        if !FileManager.default.fileExists(atPath: dir + "/DENSE_UPDATE_VARIABLES") {
            try? FileManager.default.removeItem(atPath: dir)
            do { try FileManager.default.createDirectory(atPath: cacheRoot, withIntermediateDirectories: true) } catch {
                throw .write(path: cacheRoot, reason: "\(error)")
            }
            try write(export, versionDir: dir)
        }
        return (dir, export)
    }
}

/// 64-bit FNV-1a over UTF-8, for stable cache folder names.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    mutating func add(_ text: String) {
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }
}
