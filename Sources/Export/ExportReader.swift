import ArrayIO
import Foundation
import Inference

/// Reads an export version folder (formats.md section 2): metadata, validation against a
/// ``ModelSpec``, and parameters into a ``ParameterStore`` (fixed tables memory-mapped).
public enum ExportReader {
    static func isURL(_ s: String) -> Bool { s.hasPrefix("http://") || s.hasPrefix("https://") || s.hasPrefix("file://") }

    /// `path` itself when it holds export files, else its newest numeric version folder.
    public static func resolveVersionDir(_ path: String) throws(ExportError) -> String {
        let p = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard FileIO.isDirectory(p) else { throw .missingFile(path: p) }
        if FileIO.exists(p + "/DENSE_UPDATE_VARIABLES") || FileIO.exists(p + "/pipeline.config") { return p }
        let names: [String]
        do { names = try FileIO.listDirectory(p) } catch { throw ExportError(error) }
        let versions = names.compactMap { n -> (Int64, String)? in
            guard !n.isEmpty, n.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(n),
                  FileIO.isDirectory(p + "/" + n) else { return nil }
            return (v, n)
        }
        guard let newest = versions.max(by: { $0.0 < $1.0 }) else { throw .noVersion(path: p) }
        return p + "/" + newest.1
    }

    static func readJSONObject(_ path: String) throws(ExportError) -> [String: Any] {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch { throw ExportError(error) }
        let obj: Any
        do { obj = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) } catch {
            throw .badFile(path: path, reason: "invalid JSON: \(error.localizedDescription)")
        }
        guard let o = obj as? [String: Any] else { throw .badFile(path: path, reason: "expected a JSON object") }
        return o
    }

    static func readText(_ path: String) throws(ExportError) -> String {
        guard FileIO.exists(path) else { throw .missingFile(path: path) }
        do { return try FileIO.readText(path) } catch { throw ExportError(error) }
    }

    /// Reads the metadata files of `dir` (an export folder or version folder).
    public static func readManifest(_ dir: String) throws(ExportError) -> ExportManifest {
        let v = try resolveVersionDir(dir)
        let config = try readText(v + "/pipeline.config")
        let fg = FileIO.exists(v + "/fg.json") ? try readText(v + "/fg.json") : nil

        let dvPath = v + "/DENSE_UPDATE_VARIABLES"
        guard FileIO.exists(dvPath) else { throw .missingFile(path: dvPath) }
        var dense: [String: Int] = [:]
        for (k, val) in try readJSONObject(dvPath) {
            guard let id = jsonInt64(val), id >= 0 else { throw .badFile(path: dvPath, reason: "\"\(k)\": id \(val) is not a non-negative integer") }
            dense[k] = Int(id)
        }
        try checkIds(dense, path: dvPath)

        let embPath = v + "/embed_name_to_ids.txt"
        var emb: [String: Int] = [:]
        for (n, line) in try readText(embPath).split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let id = Int(parts[1].trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw .badFile(path: embPath, reason: "line \(n + 1): expected <name>\\t<id>")
            }
            emb[String(parts[0])] = id
        }
        try checkIds(emb, path: embPath)

        var incr: IncrUpdateInfo?
        if FileIO.exists(v + "/incr_update.txt") {
            incr = try IncrUpdateInfo.parse(try readJSONObject(v + "/incr_update.txt"), path: v + "/incr_update.txt")
        }
        var kafka: KafkaInfo?
        if FileIO.exists(v + "/kafka.txt") {
            kafka = try KafkaInfo.parse(try readJSONObject(v + "/kafka.txt"), path: v + "/kafka.txt")
        } else if case .kafka(let k) = incr {
            kafka = k
        }
        var signature: ExportSignature?
        if FileIO.exists(v + "/signature.json") {
            signature = try ExportSignature.parse(try readJSONObject(v + "/signature.json"), path: v + "/signature.json")
        }
        var globalStep: Int64?
        let infoPath = v + "/" + ExportWriter.infoFile
        if FileIO.exists(infoPath) {
            let info = try readJSONObject(infoPath)
            if let value = info["global_step"] {
                guard let step = jsonInt64(value), step >= 0 else {
                    throw .badFile(path: infoPath, reason: "global_step \(value) is not a non-negative integer")
                }
                globalStep = step
            }
        }
        return ExportManifest(versionDir: v, pipelineConfig: config, fgJSON: fg, denseVariableIds: dense,
                              embeddingIds: emb, kafka: kafka, incrUpdate: incr, signature: signature, globalStep: globalStep)
    }

    /// Ids must be exactly 0..<n.
    private static func checkIds(_ m: [String: Int], path: String) throws(ExportError) {
        let ids = m.values.sorted()
        for (i, id) in ids.enumerated() where id != i {
            throw .badFile(path: path, reason: "ids must be 0..<\(m.count) without gaps or repeats (found \(id) at position \(i))")
        }
    }

    /// Checks that the manifest's names and ids are exactly the spec's.
    public static func validate(_ manifest: ExportManifest, spec: ModelSpec) throws(ExportError) {
        let dv = manifest.versionDir + "/DENSE_UPDATE_VARIABLES"
        guard manifest.denseVariableIds.count == spec.denseVariables.count else {
            throw .mismatch(path: dv, reason: "\(manifest.denseVariableIds.count) variables, the model has \(spec.denseVariables.count)")
        }
        for v in spec.denseVariables {
            guard let id = manifest.denseVariableIds[v.name] else { throw .mismatch(path: dv, reason: "no variable \(v.name)") }
            guard id == v.id else { throw .mismatch(path: dv, reason: "\(v.name) has id \(id), the model says \(v.id)") }
        }
        let ep = manifest.versionDir + "/embed_name_to_ids.txt"
        guard manifest.embeddingIds.count == spec.embeddings.count else {
            throw .mismatch(path: ep, reason: "\(manifest.embeddingIds.count) embeddings, the model has \(spec.embeddings.count)")
        }
        for e in spec.embeddings {
            guard let id = manifest.embeddingIds[e.name] else { throw .mismatch(path: ep, reason: "no embedding \(e.name)") }
            guard id == e.id else { throw .mismatch(path: ep, reason: "\(e.name) has id \(id), the model says \(e.id)") }
        }
    }

    // MARK: parameters

    /// Local path of `<base>/<stem>.npy` or `.npy.gz`, downloading from a URL base first.
    static func locate(_ base: String, stem: String, http: HTTPBlob, scratch: String) throws(ExportError) -> (path: String, temporary: Bool) {
        if isURL(base) {
            var lastError = ""
            for suffix in [".npy", ".npy.gz"] {
                let url = base + "/" + stem + suffix
                let local = scratch + "/" + stem.replacingOccurrences(of: "/", with: "_") + suffix
                do throws(HTTPBlobError) {
                    try http.download(url, to: local)
                    return (local, true)
                } catch {
                    unlink(local)
                    lastError = error.message
                }
            }
            throw .http(url: base + "/" + stem + ".npy", reason: lastError)
        }
        for suffix in [".npy", ".npy.gz"] where FileIO.exists(base + "/" + stem + suffix) {
            return (base + "/" + stem + suffix, false)
        }
        throw .missingFile(path: base + "/" + stem + ".npy")
    }

    /// Validates `dir` against `spec` and loads its parameters. Uncompressed fixed tables and
    /// key-value values are memory-mapped privately when `mapTables` (no copy; pages load on
    /// first touch; updates write private copies). `embeddingDir` (local path or http(s) URL)
    /// overrides `<version>/embeddings`; downloaded files are mapped and then unlinked.
    /// A key-value table of at least `sortedKVMinRows` rows whose keys file is sorted strictly
    /// ascending (and uncompressed, with `mapTables`) is served from read-only maps of its files
    /// through a ``SortedKeyBase`` (no in-memory hash index of its rows: tables bigger than RAM);
    /// `releaseMappedAfterUse` makes each prediction drop the mapped pages it touched.
    /// With `embeddingDType` bf16 every other table is converted at load: its f32 file is read
    /// (through a map when it can be) and rounded into a heap copy of half the size; tables over
    /// a sorted base stay f32 maps of their files.
    public static let defaultSortedKVMinRows = 1 << 24

    public static func loadStore(_ dir: String, spec: ModelSpec, embeddingDir: String? = nil, mapTables: Bool = true,
                                 sortedKVMinRows: Int = defaultSortedKVMinRows, releaseMappedAfterUse: Bool = false,
                                 embeddingDType: EmbeddingDType = .f32,
                                 http: HTTPBlob = HTTPBlob()) throws(ExportError) -> ParameterStore {
        let bf16 = embeddingDType == .bf16
        let manifest = try readManifest(dir)
        try validate(manifest, spec: spec)
        let v = manifest.versionDir
        var dense: [[Float]] = []
        for s in spec.denseVariables {
            let (path, _) = try locate(v + "/variables/dense", stem: String(s.id), http: http, scratch: "")
            let r: (shape: [Int], values: [Float])
            do { r = try Npy.readFloats(path: path) } catch { throw ExportError(error) }
            guard r.shape == s.shape else {
                throw .mismatch(path: path, reason: "\(s.name) has shape \(r.shape), the model needs \(s.shape)")
            }
            dense.append(r.values)
        }
        let embBase = embeddingDir ?? (v + "/embeddings")
        var scratch = ""
        if isURL(embBase) {
            scratch = NSTemporaryDirectory() + "odl-embeddings-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do { try FileIO.makeDirectories(scratch) } catch { throw ExportError(error) }
        }
        defer { if !scratch.isEmpty { rmdir(scratch) } }
        var tables: [StoredTable] = []
        for e in spec.embeddings {
            if let rows = e.rows {
                let (path, temp) = try locate(embBase, stem: String(e.id), http: http, scratch: scratch)
                defer { if temp { unlink(path) } }
                let r: (shape: [Int], buffer: FloatBuffer)
                // bf16: map the f32 file (no f32 heap copy), round it, drop the map.
                do { r = try Npy.loadFloatBuffer(path: path, map: mapTables || bf16) } catch { throw ExportError(error) }
                guard r.shape == [rows, e.dim] else {
                    throw .mismatch(path: path, reason: "\(e.name) has shape \(r.shape), the model needs [\(rows), \(e.dim)]")
                }
                if bf16 {
                    tables.append(.fixedBF16(FixedBF16Table(rows: rows, dim: e.dim, buffer: BF16Buffer(rounding: r.buffer.buffer))))
                } else {
                    tables.append(.fixed(FixedTable(rows: rows, dim: e.dim, buffer: r.buffer)))
                }
            } else {
                let (kp, kt) = try locate(embBase, stem: "\(e.id).keys", http: http, scratch: scratch)
                defer { if kt { unlink(kp) } }
                let (vp, vt) = try locate(embBase, stem: "\(e.id).values", http: http, scratch: scratch)
                defer { if vt { unlink(vp) } }
                if mapTables, let table = try sortedTable(keysPath: kp, valuesPath: vp, embedding: e, minRows: sortedKVMinRows,
                                                                  releaseAfterUse: releaseMappedAfterUse) {
                    tables.append(.keyValue(table))
                    continue
                }
                let keys: (shape: [Int], values: [Int64])
                let values: (shape: [Int], buffer: FloatBuffer)
                do {
                    keys = try Npy.readInt64s(path: kp)
                    values = try Npy.loadFloatBuffer(path: vp, map: mapTables || bf16)
                } catch { throw ExportError(error) }
                guard keys.shape.count == 1 else { throw .mismatch(path: kp, reason: "keys must be 1-D, got shape \(keys.shape)") }
                guard values.shape == [keys.values.count, e.dim] else {
                    throw .mismatch(path: vp, reason: "\(e.name) values have shape \(values.shape), need [\(keys.values.count), \(e.dim)]")
                }
                if bf16 {
                    tables.append(.keyValue(KVTable(dim: e.dim, keys: keys.values, halves: BF16Buffer(rounding: values.buffer.buffer))))
                } else {
                    tables.append(.keyValue(KVTable(dim: e.dim, keys: keys.values, values: values.buffer)))
                }
            }
        }
        do { return try ParameterStore(spec: spec, dense: dense, tables: tables, embeddingDType: embeddingDType) } catch {
            throw .mismatch(path: v, reason: error.description)
        }
    }

    /// The table over read-only maps of `keysPath`/`valuesPath` when the keys are sorted and
    /// there are at least `minRows` of them; nil to load it the ordinary way.
    static func sortedTable(keysPath: String, valuesPath: String, embedding e: EmbeddingSpec,
                            minRows: Int, releaseAfterUse: Bool = false) throws(ExportError) -> KVTable? {
        guard !keysPath.hasSuffix(".gz"), !valuesPath.hasSuffix(".gz") else { return nil }
        let header: NpyHeader
        do { header = try Npy.readHeader(path: keysPath) } catch { throw ExportError(error) }
        guard header.shape.count == 1, header.elementCount >= minRows, header.dtype == .int64 else { return nil }
        let keys: ReadOnlyMap, values: ReadOnlyMap
        do {
            keys = try ReadOnlyMap(npy: keysPath, dtype: .int64)
            values = try ReadOnlyMap(npy: valuesPath, dtype: .float32)
        } catch { throw ExportError(error) }
        guard values.header.shape == [header.elementCount, e.dim] else {
            throw .mismatch(path: valuesPath, reason: "\(e.name) values have shape \(values.header.shape), need [\(header.elementCount), \(e.dim)]")
        }
        return SortedKeyBase(keys: keys, values: values, dim: e.dim, releaseAfterUse: releaseAfterUse).map { KVTable(sorted: $0) }
    }

    /// Validates and loads `dir` into plain arrays (a copy).
    public static func loadParameters(_ dir: String, spec: ModelSpec, embeddingDir: String? = nil,
                                      http: HTTPBlob = HTTPBlob()) throws(ExportError) -> ModelParameters {
        try loadStore(dir, spec: spec, embeddingDir: embeddingDir, mapTables: false, http: http).snapshotParameters()
    }
}
