import ArrayIO
import Config
import Inference

/// What `odl inspect` prints for an export: the signatures as `saved_model_cli show --all`
/// prints them for an EasyRec SavedModel, then every variable with its shape, update id and
/// file. Needs no ModelSpec: signature.json, DENSE_UPDATE_VARIABLES, embed_name_to_ids.txt and
/// the `.npy` headers suffice (when signature.json is absent, it is derived from pipeline.config).
public enum ExportInspector {
    static func shapeText(_ s: [Int]) -> String {
        s.count == 1 ? "(\(s[0]))" : "(" + s.map(String.init).joined(separator: ", ") + ")"
    }

    static func tensors(_ title: String, _ kind: String, _ t: [TensorInfo]) -> String {
        var out = "  The given SavedModel SignatureDef contains the following \(title)(s):\n"
        for x in t.sorted(by: { $0.key < $1.key }) {
            out += "    \(kind)['\(x.key)'] tensor_info:\n"
            out += "        dtype: \(x.dtype)\n"
            out += "        shape: \(shapeText(x.shape))\n"
            out += "        name: \(x.name)\n"
        }
        return out
    }

    /// The full report for `dir` (export folder or version folder).
    public static func describe(_ dir: String, embeddingDir: String? = nil) throws(ExportError) -> String {
        let m = try ExportReader.readManifest(dir)
        var signature = m.signature
        var note = ""
        if signature == nil {
            do {
                let config = try PipelineConfig.load(text: m.pipelineConfig, source: m.versionDir + "/pipeline.config")
                signature = ExportSignature.make(spec: try ModelSpec(config: config))
                note = "(signature.json absent: derived from pipeline.config)\n"
            } catch {
                // The update signature follows from DENSE_UPDATE_VARIABLES and the .npy shapes alone.
                note = "(signature.json absent and pipeline.config unusable (\(error)): serving inputs unknown)\n"
                var incrIn: [TensorInfo] = [], incrOut: [TensorInfo] = []
                for (_, id) in m.denseVariableIds {
                    let stem = m.versionDir + "/variables/dense/\(id)"
                    let shape = (try? Npy.readHeader(path: FileIO.exists(stem + ".npy") ? stem + ".npy" : stem + ".npy.gz"))?.shape ?? [-1]
                    let i = "incr_update/dense/\(id)/input", o = "incr_update/dense/\(id)/output"
                    incrIn.append(TensorInfo(key: i, dtype: "DT_FLOAT", shape: shape, name: i + ":0"))
                    incrOut.append(TensorInfo(key: o, dtype: "DT_FLOAT", shape: shape, name: o + ":0"))
                }
                let sp = "incr_update/sparse/embedding_update"
                incrIn.append(TensorInfo(key: sp, dtype: "DT_INT8", shape: [-1], name: sp + ":0"))
                signature = ExportSignature(servingInputs: [],
                                            servingOutputs: ExportSignature.make(spec: ModelSpec.empty).servingOutputs,
                                            incrInputs: incrIn, incrOutputs: incrOut)
            }
        }
        var out = "MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:\n\n" + note
        if let s = signature {
            out += "signature_def['incr_update_sig']:\n"
            out += tensors("input", "inputs", s.incrInputs) + tensors("output", "outputs", s.incrOutputs)
            out += "  Method name is: tensorflow/serving/predict\n\n"
            out += "signature_def['serving_default']:\n"
            out += tensors("input", "inputs", s.servingInputs) + tensors("output", "outputs", s.servingOutputs)
            out += "  Method name is: tensorflow/serving/predict\n"
        }
        out += "\nDense update variables (DENSE_UPDATE_VARIABLES, dense update messages):\n"
        var total = 0
        for (name, id) in m.denseVariableIds.sorted(by: { $0.value < $1.value }) {
            let stem = m.versionDir + "/variables/dense/\(id)"
            let path = FileIO.exists(stem + ".npy") ? stem + ".npy" : stem + ".npy.gz"
            let shape: String
            if let h = try? Npy.readHeader(path: path) { shape = shapeText(h.shape); total += h.elementCount * 4 } else { shape = "(file missing)" }
            out += "  id \(id)\t\(name)\tshape \(shape)\t\(relative(path, m.versionDir))\n"
        }
        out += "\nEmbeddings (embed_name_to_ids.txt, sparse update blocks):\n"
        let embBase = embeddingDir ?? (m.versionDir + "/embeddings")
        for (name, id) in m.embeddingIds.sorted(by: { $0.value < $1.value }) {
            if ExportReader.isURL(embBase) {
                out += "  id \(id)\t\(name)\t(remote: \(embBase)/\(id).*)\n"
                continue
            }
            let fixed = [embBase + "/\(id).npy", embBase + "/\(id).npy.gz"].first(where: FileIO.exists)
            let keys = [embBase + "/\(id).keys.npy", embBase + "/\(id).keys.npy.gz"].first(where: FileIO.exists)
            let values = [embBase + "/\(id).values.npy", embBase + "/\(id).values.npy.gz"].first(where: FileIO.exists)
            if let fixed, let h = try? Npy.readHeader(path: fixed) {
                total += h.elementCount * 4
                out += "  id \(id)\t\(name)\tshape \(shapeText(h.shape))\tfixed\t\(relative(fixed, m.versionDir))\n"
            } else if let values, let keys, let h = try? Npy.readHeader(path: values) {
                total += h.elementCount * 4
                out += "  id \(id)\t\(name)\tshape \(shapeText(h.shape))\tkey-value (\(h.shape.first ?? 0) keys)\t\(relative(keys, m.versionDir)), \(relative(values, m.versionDir))\n"
            } else {
                out += "  id \(id)\t\(name)\t(file missing under \(embBase))\n"
            }
        }
        out += "\nParameters: \(total) bytes of float32.\n"
        if let k = m.kafka {
            out += "Update stream: kafka \(k.server) topic \(k.topic) from offset \(k.offset)"
            if let o = k.offsets { out += ", per partition \(o.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "))" }
            out += "\n"
        } else if case .fs(let d)? = m.incrUpdate {
            out += "Update stream: files in \(d)\n"
        }
        out += m.fgJSON == nil ? "Feature generation: none (bypass mode)\n" : "Feature generation: fg.json present\n"
        return out
    }

    static func relative(_ path: String, _ base: String) -> String {
        path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }
}
