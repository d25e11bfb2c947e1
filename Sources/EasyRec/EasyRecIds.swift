import Foundation
import Inference

/// The dense and table ids of an EasyRec export: its `DENSE_UPDATE_VARIABLES` and
/// `embed_name_to_ids.txt` when the online export wrote them, else derived from the graph in
/// the order EasyRec would assign them (``EasyRecNaming/derivedIds(graphVariables:spec:)``).
/// Keys are odl's names.
enum EasyRecIds {
    static func resolve(assets: String, graphVariables: [String], spec: ModelSpec) throws(EasyRecError)
        -> (dense: [String: Int], tables: [String: Int], source: String) {
        // EasyRec table name -> odl table name.
        var odlTable: [String: String] = [:]
        for e in spec.embeddings { odlTable[EasyRecNaming.tableName(spec: spec, embedding: e)] = e.name }
        let densePath = assets + "/DENSE_UPDATE_VARIABLES"
        let tablePath = assets + "/embed_name_to_ids.txt"
        let fm = FileManager.default
        let easyRec: (dense: [String: Int], tables: [String: Int])
        let source: String
        if fm.fileExists(atPath: densePath) && fm.fileExists(atPath: tablePath) {
            easyRec = (try readDense(densePath), try readTables(tablePath))
            source = "the export's DENSE_UPDATE_VARIABLES and embed_name_to_ids.txt"
        } else {
            easyRec = EasyRecNaming.derivedIds(graphVariables: graphVariables, spec: spec)
            source = "derived from saved_model.pb (EasyRec's online-export order)"
        }
        var tables: [String: Int] = [:]
        for (name, id) in easyRec.tables {
            guard let odl = odlTable[name] else {
                throw .unplacedVariable(bundle: tablePath, name: name, shape: [])
            }
            tables[odl] = id
        }
        let denseNames = Set(spec.denseVariables.map(\.name))
        for name in easyRec.dense.keys where !denseNames.contains(name) {
            throw .unplacedVariable(bundle: densePath, name: name, shape: [])
        }
        return (easyRec.dense, tables, source)
    }

    static func readDense(_ path: String) throws(EasyRecError) -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .badFile(path: path, reason: "expected a JSON object of name -> id")
        }
        var out: [String: Int] = [:]
        for (name, value) in object {
            guard let id = (value as? NSNumber)?.intValue ?? (value as? String).flatMap({ Int($0) }) else {
                throw .badFile(path: path, reason: "\"\(name)\": id is not an integer")
            }
            out[name] = id
        }
        return out
    }

    static func readTables(_ path: String) throws(EasyRecError) -> [String: Int] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .missingFile(path) }
        var out: [String: Int] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let id = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw .badFile(path: path, reason: "line \(number + 1): expected <name>\\t<id>")
            }
            out[String(parts[0])] = id
        }
        return out
    }
}
