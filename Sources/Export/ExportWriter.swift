import ArrayIO
import Foundation
import FG
import Inference
import JSON

/// Writes an export version folder (formats.md section 2). The folder is written under a
/// temporary name next to it and renamed at the end, so a reader never sees half an export.
public enum ExportWriter {
    /// **(ours)** `{"global_step": N}`: the trainer step of the exported parameters.
    public static let infoFile = "export_info.json"

    /// `<exportDir>/<unix seconds>`.
    public static func newVersionDir(exportDir: String) -> String {
        exportDir + "/" + String(Int64(Date().timeIntervalSince1970))
    }

    /// Writes everything: metadata, `variables/dense/<id>.npy`, and the embeddings into
    /// `<version>/embeddings` or `embeddingDir` (a local folder, or an http(s):// URL that
    /// receives one PUT per file). `compress` writes `.npy.gz`.
    public static func write(versionDir: String, spec: ModelSpec, parameters: ModelParameters,
                             pipelineConfig: String, fgJSON: String? = nil, kafka: KafkaInfo? = nil,
                             incrUpdate: IncrUpdateInfo? = nil, globalStep: Int64? = nil, embeddingDir: String? = nil,
                             compress: Bool = false, http: HTTPBlob = HTTPBlob()) throws(ExportError) {
        guard parameters.dense.count == spec.denseVariables.count, parameters.tables.count == spec.embeddings.count else {
            throw .mismatch(path: versionDir, reason: "parameters have \(parameters.dense.count) dense / \(parameters.tables.count) tables, the model \(spec.denseVariables.count) / \(spec.embeddings.count)")
        }
        guard !FileIO.exists(versionDir) else { throw .io(path: versionDir, reason: "already exists") }
        let tmp = versionDir + ".tmp-\(getpid())"
        let ext = compress ? ".npy.gz" : ".npy"
        do {
            try FileIO.makeDirectories(tmp + "/variables/dense")
            try writeMetadata(dir: tmp, spec: spec, pipelineConfig: pipelineConfig, fgJSON: fgJSON,
                              kafka: kafka, incrUpdate: incrUpdate, globalStep: globalStep)
            for (s, values) in zip(spec.denseVariables, parameters.dense) {
                guard values.count == s.elementCount else {
                    throw ExportError.mismatch(path: versionDir, reason: "\(s.name): \(values.count) values for shape \(s.shape)")
                }
                try Npy.write(values, shape: s.shape, to: tmp + "/variables/dense/\(s.id)\(ext)")
            }
            let remote = embeddingDir.map(ExportReader.isURL) ?? false
            let embLocal = remote ? tmp + "/.upload" : (embeddingDir ?? tmp + "/embeddings")
            try FileIO.makeDirectories(embLocal)
            var written: [String] = []
            for (e, t) in zip(spec.embeddings, parameters.tables) {
                switch t {
                case .fixed(let rows, let dim, let values):
                    guard e.rows == rows, e.dim == dim, values.count == rows * dim else {
                        throw ExportError.mismatch(path: versionDir, reason: "\(e.name): fixed [\(rows), \(dim)] does not fit the model")
                    }
                    try Npy.write(values, shape: [rows, dim], to: embLocal + "/\(e.id)\(ext)")
                    written.append("\(e.id)\(ext)")
                case .keyValue(let dim, let keys, let values):
                    guard e.rows == nil, e.dim == dim, values.count == keys.count * dim else {
                        throw ExportError.mismatch(path: versionDir, reason: "\(e.name): key-value table does not fit the model")
                    }
                    // A big table's rows go in key order, so it can be served from maps of these files
                    // (SortedKeyBase); smaller ones keep their order (what a reload gives back).
                    let (sortedKeys, sortedValues) = keys.count >= sortKVMinRows ? sortedByKey(keys: keys, values: values, dim: dim) : (keys, values)
                    try Npy.write(sortedKeys, shape: [keys.count], to: embLocal + "/\(e.id).keys\(ext)")
                    try Npy.write(sortedValues, shape: [keys.count, dim], to: embLocal + "/\(e.id).values\(ext)")
                    written += ["\(e.id).keys\(ext)", "\(e.id).values\(ext)"]
                }
            }
            if remote, let url = embeddingDir {
                for f in written {
                    do throws(HTTPBlobError) { try http.upload(file: embLocal + "/" + f, to: url + "/" + f) } catch {
                        throw ExportError.http(url: error.url, reason: error.message)
                    }
                    unlink(embLocal + "/" + f)
                }
                rmdir(embLocal)
            }
            guard rename(tmp, versionDir) == 0 else {
                throw ExportError.io(path: versionDir, reason: "rename from \(tmp) failed: \(FileIO.errnoText())")
            }
        } catch let e as ExportError {
            throw e
        } catch let e as NpyError {
            throw ExportError(e)
        } catch let e as FileIO.Failure {
            throw ExportError(e)
        } catch {
            throw .io(path: versionDir, reason: "\(error)")
        }
    }

    /// Writes the metadata files into `dir`: pipeline.config, fg.json, DENSE_UPDATE_VARIABLES,
    /// embed_name_to_ids.txt, kafka.txt, incr_update.txt, signature.json, export_info.json.
    /// Key-value tables of at least this many rows are written in key order.
    public static let sortKVMinRows = ExportReader.defaultSortedKVMinRows

    /// Key-value rows reordered by ascending key (a stable sort: of a repeated key the last
    /// row still wins on load). Already sorted rows are returned as they are.
    static func sortedByKey(keys: [Int64], values: [Float], dim: Int) -> ([Int64], [Float]) {
        var sorted = true
        for i in keys.indices.dropFirst() where keys[i] < keys[i - 1] { sorted = false; break }
        if sorted { return (keys, values) }
        let order = keys.indices.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
        var outValues = [Float](repeating: 0, count: values.count)
        outValues.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { v in
                guard let o = out.baseAddress, let src = v.baseAddress else { return }
                for (to, from) in order.enumerated() { (o + to * dim).update(from: src + from * dim, count: dim) }
            }
        }
        return (order.map { keys[$0] }, outValues)
    }

    public static func writeMetadata(dir: String, spec: ModelSpec, pipelineConfig: String, fgJSON: String? = nil,
                                     kafka: KafkaInfo? = nil, incrUpdate: IncrUpdateInfo? = nil,
                                     globalStep: Int64? = nil) throws(ExportError) {
        do {
            try FileIO.makeDirectories(dir)
            try FileIO.writeText(dir + "/pipeline.config", pipelineConfig)
            if let fgJSON { try FileIO.writeText(dir + "/fg.json", fgJSON) }
            let dense = spec.denseVariables.map { "  \(JSONText.quote($0.name)): \($0.id)" }.joined(separator: ",\n")
            try FileIO.writeText(dir + "/DENSE_UPDATE_VARIABLES", "{\n" + dense + "\n}\n")
            try FileIO.writeText(dir + "/embed_name_to_ids.txt", spec.embeddings.map { "\($0.name)\t\($0.id)\n" }.joined())
            if let kafka { try FileIO.writeText(dir + "/kafka.txt", try json(kafka.jsonObject())) }
            if let incrUpdate { try FileIO.writeText(dir + "/incr_update.txt", try json(incrUpdate.jsonObject())) }
            try FileIO.writeText(dir + "/signature.json", try json(ExportSignature.make(spec: spec).jsonObject()))
            if let globalStep { try FileIO.writeText(dir + "/" + infoFile, try json(["global_step": globalStep])) }
        } catch let e as FileIO.Failure {
            throw ExportError(e)
        } catch let e as ExportError {
            throw e
        } catch {
            throw .io(path: dir, reason: "\(error)")
        }
    }

    static func json(_ o: Any) throws(ExportError) -> String {
        do {
            let d = try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys])
            return String(decoding: d, as: UTF8.self) + "\n"
        } catch { throw .io(path: "<json>", reason: "cannot encode JSON: \(error)") }
    }

}
