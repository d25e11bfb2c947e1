import ArrayIO
import Foundation
import Inference

/// The inside of a `model.ckpt-<step>` folder: `.npy` files plus `index.json`.
///
/// index.json: `{"format": "odl-checkpoint-1", "global_step": N, "update_offsets": {"0": n},
/// "variables": [{"name", "kind": "dense"|"sparse", "id", "file", "keys_file"?, "shape", "dtype"}],
/// "slots": [{"name", "file", "keys_file"?, "shape", "dtype"}]}`.
enum CheckpointFormat {
    struct Entry: Codable {
        var name: String
        var kind: String
        var id: Int
        var file: String
        var keys_file: String?
        var shape: [Int]
        var dtype: String
    }

    struct Index: Codable {
        var format: String
        var global_step: Int
        var update_offsets: [String: Int64]
        var variables: [Entry]
        var slots: [Entry]
    }

    static let formatName = "odl-checkpoint-1"

    static func writeFolder(_ c: CheckpointContents, spec: ModelSpec, to folder: String) throws {
        guard c.parameters.dense.count == spec.denseVariables.count, c.parameters.tables.count == spec.embeddings.count else {
            throw TrainerError.checkpoint(path: folder, reason: "parameters do not match the model spec "
                + "(\(c.parameters.dense.count) dense / \(c.parameters.tables.count) tables vs "
                + "\(spec.denseVariables.count) / \(spec.embeddings.count))")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TrainerError.checkpoint(path: folder, reason: "cannot create folder: \(error)")
        }
        var entries: [Entry] = []
        for v in spec.denseVariables {
            let file = "dense_\(v.id).npy"
            try put(shape: v.shape, .float32(c.parameters.dense[v.id]), folder, file)
            entries.append(Entry(name: v.name, kind: "dense", id: v.id, file: file, keys_file: nil, shape: v.shape, dtype: "<f4"))
        }
        for e in spec.embeddings {
            let file = "embedding_\(e.id).npy"
            switch c.parameters.tables[e.id] {
            case .fixed(let rows, let dim, let values):
                try put(shape: [rows, dim], .float32(values), folder, file)
                entries.append(Entry(name: e.name, kind: "sparse", id: e.id, file: file, keys_file: nil, shape: [rows, dim], dtype: "<f4"))
            case .keyValue(let dim, let keys, let values):
                let keysFile = "embedding_\(e.id).keys.npy"
                try put(shape: [keys.count], .int64(keys), folder, keysFile)
                try put(shape: [keys.count, dim], .float32(values), folder, file)
                entries.append(Entry(name: e.name, kind: "sparse", id: e.id, file: file, keys_file: keysFile, shape: [keys.count, dim], dtype: "<f4"))
            }
        }
        var slotEntries: [Entry] = []
        for (i, s) in c.slots.enumerated() {
            let file = "slot_\(i).npy"
            try put(shape: s.shape, .float32(s.values), folder, file)
            var keysFile: String?
            if let keys = s.keys {
                keysFile = "slot_\(i).keys.npy"
                try put(shape: [keys.count], .int64(keys), folder, "slot_\(i).keys.npy")
            }
            slotEntries.append(Entry(name: s.name, kind: "slot", id: i, file: file, keys_file: keysFile, shape: s.shape, dtype: "<f4"))
        }
        var updateOffsets: [String: Int64] = [:]
        for (p, o) in c.updateOffsets { updateOffsets[String(p)] = o }
        let index = Index(format: formatName, global_step: c.globalStep, update_offsets: updateOffsets,
                          variables: entries, slots: slotEntries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            // index.json last: a folder without it is never taken for a checkpoint.
            try encoder.encode(index).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("index.json")))
        } catch {
            throw TrainerError.checkpoint(path: folder, reason: "cannot write index.json: \(error)")
        }
    }

    /// One `.npy` of the checkpoint: float values or int64 keys.
    enum Payload {
        case float32([Float])
        case int64([Int64])
    }

    static func put(shape: [Int], _ payload: Payload, _ folder: String, _ file: String) throws {
        let path = (folder as NSString).appendingPathComponent(file)
        do {
            switch payload {
            case .float32(let v): try Npy.write(v, shape: shape, to: path)
            case .int64(let v): try Npy.write(v, shape: shape, to: path)
            }
        } catch {
            throw TrainerError.checkpoint(path: path, reason: "cannot write: \(error)")
        }
    }

    static func floats(_ folder: String, _ file: String, shape: [Int]) throws -> [Float] {
        let path = (folder as NSString).appendingPathComponent(file)
        let loaded: (shape: [Int], values: [Float])
        do {
            loaded = try Npy.readFloats(path: path)
        } catch {
            throw TrainerError.checkpoint(path: path, reason: "\(error)")
        }
        guard loaded.shape == shape else {
            throw TrainerError.checkpoint(path: path, reason: "expected <f4 \(shape), found \(loaded.shape)")
        }
        return loaded.values
    }

    static func keys(_ folder: String, _ file: String, count: Int) throws -> [Int64] {
        let path = (folder as NSString).appendingPathComponent(file)
        let loaded: (shape: [Int], values: [Int64])
        do {
            loaded = try Npy.readInt64s(path: path)
        } catch {
            throw TrainerError.checkpoint(path: path, reason: "\(error)")
        }
        guard loaded.shape == [count] else {
            throw TrainerError.checkpoint(path: path, reason: "expected <i8 [\(count)], found \(loaded.shape)")
        }
        return loaded.values
    }

    static func readFolder(_ folder: String, spec: ModelSpec) throws -> CheckpointContents {
        let indexPath = (folder as NSString).appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw TrainerError.checkpoint(path: indexPath, reason: "missing index.json")
        }
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: data)
        } catch {
            throw TrainerError.checkpoint(path: indexPath, reason: "malformed index.json: \(error)")
        }
        guard index.format == formatName else {
            throw TrainerError.checkpoint(path: indexPath, reason: "unknown format \(index.format)")
        }
        let byName = Dictionary(index.variables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var dense: [[Float]] = []
        for v in spec.denseVariables {
            guard let e = byName[v.name], e.kind == "dense" else {
                throw TrainerError.checkpoint(path: folder, reason: "dense variable \(v.name) missing (config and checkpoint disagree)")
            }
            guard e.shape == v.shape else {
                throw TrainerError.checkpoint(path: folder, reason: "variable \(v.name) has shape \(e.shape), the model needs \(v.shape)")
            }
            dense.append(try floats(folder, e.file, shape: v.shape))
        }
        var tables: [EmbeddingTableValues] = []
        for t in spec.embeddings {
            guard let e = byName[t.name], e.kind == "sparse", e.shape.count == 2 else {
                throw TrainerError.checkpoint(path: folder, reason: "embedding \(t.name) missing (config and checkpoint disagree)")
            }
            guard e.shape[1] == t.dim else {
                throw TrainerError.checkpoint(path: folder, reason: "embedding \(t.name) has width \(e.shape[1]), the model needs \(t.dim)")
            }
            if let rows = t.rows {
                guard e.keys_file == nil, e.shape[0] == rows else {
                    throw TrainerError.checkpoint(path: folder, reason: "embedding \(t.name) has \(e.shape[0]) rows, the model needs \(rows)")
                }
                tables.append(.fixed(rows: rows, dim: t.dim, values: try floats(folder, e.file, shape: e.shape)))
            } else {
                guard let kf = e.keys_file else {
                    throw TrainerError.checkpoint(path: folder, reason: "key-value embedding \(t.name) has no keys file")
                }
                let k = try keys(folder, kf, count: e.shape[0])
                tables.append(.keyValue(dim: t.dim, keys: k, values: try floats(folder, e.file, shape: e.shape)))
            }
        }
        var slots: [CheckpointTensor] = []
        for e in index.slots {
            let values = try floats(folder, e.file, shape: e.shape)
            var k: [Int64]?
            if let kf = e.keys_file { k = try keys(folder, kf, count: e.shape.first ?? 0) }
            slots.append(CheckpointTensor(name: e.name, shape: e.shape, values: values, keys: k))
        }
        var updateOffsets: [Int32: Int64] = [:]
        for (p, o) in index.update_offsets {
            guard let partition = Int32(p) else {
                throw TrainerError.checkpoint(path: indexPath, reason: "update_offsets key \(p) is not a partition")
            }
            updateOffsets[partition] = o
        }
        return CheckpointContents(globalStep: index.global_step, parameters: ModelParameters(dense: dense, tables: tables),
                                  slots: slots, updateOffsets: updateOffsets, inputOffsets: nil)
    }
}
