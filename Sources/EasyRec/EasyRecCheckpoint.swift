import Foundation
import Inference
import TensorFlowIO

/// An EasyRec training checkpoint (`model.ckpt-N.index` + `.data-*`) as odl's trainer uses it
/// for `fine_tune_checkpoint`: the model parameters and the optimizer slots under odl's names
/// (`<odl variable>/Adam`, `beta1_power`, ...).
public struct EasyRecCheckpoint: Sendable {
    public let prefix: String
    public let parameters: ModelParameters
    /// Optimizer slots: odl's slot name -> (shape, values).
    public let slots: [String: (shape: [Int], values: [Float])]
    public let globalStep: Int64?

    /// True when `prefix.index` exists (a TensorFlow checkpoint rather than odl's folder).
    public static func isCheckpoint(_ prefix: String) -> Bool {
        FileManager.default.fileExists(atPath: prefix + ".index")
    }

    /// Reads the checkpoint at `prefix` for `spec` (any id order: variables are matched by name).
    public init(prefix: String, spec: ModelSpec) throws(EasyRecError) {
        self.prefix = prefix
        let bundle: TensorBundle
        do { bundle = try TensorBundle(prefix: prefix) } catch { throw .tensorFlow(error) }
        let read = try EasyRecParameters.read(bundle: bundle, spec: spec)
        parameters = read.parameters
        globalStep = read.globalStep
        var odlName: [String: String] = [:]
        for m in read.mapping { odlName[m.easyRecName] = m.odlName }
        var slots: [String: (shape: [Int], values: [Float])] = [:]
        for name in bundle.names {
            if EasyRecParameters.bookkeeping.contains(name), name != "global_step",
               let tensor = try? bundle.floats(name) {
                slots[name] = (tensor.shape, tensor.values)
                continue
            }
            guard let slash = name.lastIndex(of: "/"), let owner = odlName[String(name[..<slash])] else { continue }
            let slot = name[name.index(after: slash)...]
            do {
                let tensor = try bundle.floats(name)
                let values = owner == "deep_feature/dnn_0/kernel"
                    ? EasyRecParameters.deepKernelInSpecOrder(tensor.values, spec: spec) : tensor.values
                slots["\(owner)/\(slot)"] = (tensor.shape, values)
            } catch { throw .tensorFlow(error) }
        }
        self.slots = slots
    }
}
