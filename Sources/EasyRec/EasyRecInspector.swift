/// `odl inspect` of an EasyRec export: signature, the mapping of every EasyRec variable onto
/// odl's DeepFM, and the DENSE_UPDATE_VARIABLES / embed_name_to_ids.txt odl uses.
public enum EasyRecInspector {
    public static func describe(_ export: EasyRecExport) -> String {
        var out = "EasyRec SavedModel export: \(export.directory)\n"
        out += "tags: \(export.signature.tags.joined(separator: ", "))  TensorFlow \(export.signature.tensorflowVersion)"
        out += "  global_step: \(export.globalStep.map(String.init) ?? "?")\n\n"
        out += "signature_def['serving_default']:\n  inputs:\n"
        for i in export.signature.inputs { out += "    \(i.key): \(i.dtype) \(i.shape.map { "\($0)" } ?? "unknown rank") (\(i.tensorName))\n" }
        out += "  outputs:\n"
        for o in export.signature.outputs { out += "    \(o.key): \(o.dtype) \(o.shape.map { "\($0)" } ?? "unknown rank") (\(o.tensorName))\n" }
        if !export.signature.incrUpdateInputs.isEmpty {
            out += "signature_def['incr_update_sig'] inputs: \(export.signature.incrUpdateInputs.map(\.key).joined(separator: ", "))\n"
        }
        let buckets = export.signature.hashBuckets.sorted { $0.key < $1.key }
        if !buckets.isEmpty {
            out += "\nStringToHashBucketFast (FarmHash Fingerprint64 mod num_buckets):\n"
            for (node, n) in buckets { out += "  \(node): \(n)\n" }
        }
        out += "\nvariable mapping (EasyRec -> odl):\n"
        for m in export.mapping {
            out += "  \(m.easyRecName) \(m.shape) -> \(m.role.rawValue) \(m.odlName) id \(m.id)\n"
        }
        out += "\nids: \(export.idsSource)\nDENSE_UPDATE_VARIABLES:\n"
        for v in export.spec.denseVariables { out += "  \(v.name)\t\(v.id)\n" }
        out += "embed_name_to_ids.txt (EasyRec name / odl name):\n"
        for e in export.spec.embeddings {
            out += "  \(EasyRecNaming.tableName(spec: export.spec, embedding: e))\t\(e.id)\t(\(e.name))\n"
        }
        return out
    }
}
