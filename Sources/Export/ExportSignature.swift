import Foundation
import FG
import Inference

/// One tensor of a signature, as `saved_model_cli show --all` prints it.
public struct TensorInfo: Sendable, Equatable {
    public var key: String
    public var dtype: String
    /// -1 = unknown dimension.
    public var shape: [Int]
    public var name: String

    public init(key: String, dtype: String, shape: [Int], name: String) {
        self.key = key
        self.dtype = dtype
        self.shape = shape
        self.name = name
    }
}

/// `signature.json` (ours): the `serving_default` and `incr_update_sig` signatures of the
/// equivalent EasyRec SavedModel.
public struct ExportSignature: Sendable, Equatable {
    public var servingInputs: [TensorInfo]
    public var servingOutputs: [TensorInfo]
    public var incrInputs: [TensorInfo]
    public var incrOutputs: [TensorInfo]

    public init(servingInputs: [TensorInfo], servingOutputs: [TensorInfo], incrInputs: [TensorInfo], incrOutputs: [TensorInfo]) {
        self.servingInputs = servingInputs
        self.servingOutputs = servingOutputs
        self.incrInputs = incrInputs
        self.incrOutputs = incrOutputs
    }

    /// The signature of `spec`: one serving input per model input field (in column order),
    /// outputs `logits`/`probs` [-1]; dense update inputs/outputs per variable and the sparse input.
    public static func make(spec: ModelSpec) -> ExportSignature {
        var inputs: [TensorInfo] = []
        var seen = Set<String>()
        for c in spec.columns {
            let dtype: String
            switch c.kind {
            case .raw, .boundaries: dtype = "DT_FLOAT"
            case .identity: dtype = "DT_INT64"
            default: dtype = "DT_STRING"
            }
            for n in (c.inputNames.isEmpty ? [c.name] : c.inputNames) where seen.insert(n).inserted {
                inputs.append(TensorInfo(key: n, dtype: dtype, shape: [-1], name: "input_\(n):0"))
            }
        }
        let outputs = [TensorInfo(key: "logits", dtype: "DT_FLOAT", shape: [-1], name: "Squeeze:0"),
                       TensorInfo(key: "probs", dtype: "DT_FLOAT", shape: [-1], name: "Sigmoid:0")]
        var incrIn: [TensorInfo] = []
        var incrOut: [TensorInfo] = []
        for v in spec.denseVariables {
            let i = "incr_update/dense/\(v.id)/input", o = "incr_update/dense/\(v.id)/output"
            incrIn.append(TensorInfo(key: i, dtype: "DT_FLOAT", shape: v.shape, name: i + ":0"))
            incrOut.append(TensorInfo(key: o, dtype: "DT_FLOAT", shape: v.shape, name: o + ":0"))
        }
        let s = "incr_update/sparse/embedding_update"
        incrIn.append(TensorInfo(key: s, dtype: "DT_INT8", shape: [-1], name: s + ":0"))
        return ExportSignature(servingInputs: inputs, servingOutputs: outputs, incrInputs: incrIn, incrOutputs: incrOut)
    }

    static func tensorsJSON(_ t: [TensorInfo]) -> [String: Any] {
        var o: [String: Any] = [:]
        for x in t { o[x.key] = ["dtype": x.dtype, "shape": x.shape, "name": x.name] as [String: Any] }
        return o
    }

    func jsonObject() -> [String: Any] {
        ["signature_def": [
            "serving_default": ["method_name": "tensorflow/serving/predict",
                                "inputs": ExportSignature.tensorsJSON(servingInputs),
                                "outputs": ExportSignature.tensorsJSON(servingOutputs)] as [String: Any],
            "incr_update_sig": ["method_name": "tensorflow/serving/predict",
                                "inputs": ExportSignature.tensorsJSON(incrInputs),
                                "outputs": ExportSignature.tensorsJSON(incrOutputs)] as [String: Any],
        ] as [String: Any]]
    }

    static func parse(_ o: [String: Any], path: String) throws(ExportError) -> ExportSignature {
        guard let defs = o["signature_def"] as? [String: Any] else { throw .badFile(path: path, reason: "no \"signature_def\" object") }
        func tensors(_ sig: String, _ part: String) throws(ExportError) -> [TensorInfo] {
            guard let s = defs[sig] as? [String: Any] else { throw .badFile(path: path, reason: "no signature \(sig)") }
            guard let m = s[part] as? [String: Any] else { return [] }
            var out: [TensorInfo] = []
            for (k, v) in m {
                guard let t = v as? [String: Any], let dtype = t["dtype"] as? String,
                      let shape = t["shape"] as? [Any], let name = t["name"] as? String else {
                    throw .badFile(path: path, reason: "\(sig).\(part).\(k): needs dtype, shape, name")
                }
                var dims: [Int] = []
                for d in shape {
                    guard let n = jsonInt64(d) else { throw .badFile(path: path, reason: "\(sig).\(part).\(k): bad shape") }
                    dims.append(Int(n))
                }
                out.append(TensorInfo(key: k, dtype: dtype, shape: dims, name: name))
            }
            return out.sorted { $0.key < $1.key }
        }
        return ExportSignature(servingInputs: try tensors("serving_default", "inputs"),
                               servingOutputs: try tensors("serving_default", "outputs"),
                               incrInputs: try tensors("incr_update_sig", "inputs"),
                               incrOutputs: try tensors("incr_update_sig", "outputs"))
    }

    /// Keys sorted, as the JSON round trip returns them (for comparisons).
    public var normalized: ExportSignature {
        ExportSignature(servingInputs: servingInputs.sorted { $0.key < $1.key },
                        servingOutputs: servingOutputs.sorted { $0.key < $1.key },
                        incrInputs: incrInputs.sorted { $0.key < $1.key },
                        incrOutputs: incrOutputs.sorted { $0.key < $1.key })
    }
}
