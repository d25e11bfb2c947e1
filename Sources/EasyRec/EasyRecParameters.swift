import Inference
import TensorFlowIO

/// Reads odl's DeepFM parameters out of an EasyRec checkpoint bundle (an export's
/// `variables/variables` or a training `model.ckpt-N`), placing every variable or naming the
/// one it cannot place.
public enum EasyRecParameters {
    /// Variables that are not model parameters: the step and optimizer accumulators.
    static let bookkeeping: Set<String> = ["global_step", "beta1_power", "beta2_power"]

    /// Parameters (by the spec's ids), the mapping, and the bundle's `global_step`.
    public static func read(bundle: TensorBundle, spec: ModelSpec) throws(EasyRecError)
        -> (parameters: ModelParameters, mapping: [VariableMapping], globalStep: Int64?) {
        var mapping: [VariableMapping] = []
        var placed = Set<String>()
        var tables: [EmbeddingTableValues] = []
        for e in spec.embeddings {
            let name = EasyRecNaming.variableName(spec: spec, embedding: e)
            guard let rows = e.rows else {
                throw .unplacedVariable(bundle: bundle.prefix, name: name + " (EmbeddingVariable / key-value table)", shape: [])
            }
            let values = try floats(bundle, name, expected: [rows, e.dim], odlName: e.name)
            tables.append(.fixed(rows: rows, dim: e.dim, values: values))
            placed.insert(name)
            mapping.append(VariableMapping(easyRecName: name, odlName: e.name, role: e.part == .wide ? .wideTable : .deepTable,
                                           id: e.id, shape: [rows, e.dim]))
        }
        var dense: [[Float]] = []
        for v in spec.denseVariables {
            var values = try floats(bundle, v.name, expected: v.shape, odlName: v.name)
            if v.name == "deep_feature/dnn_0/kernel" { values = deepKernelInSpecOrder(values, spec: spec) }
            dense.append(values)
            placed.insert(v.name)
            mapping.append(VariableMapping(easyRecName: v.name, odlName: v.name, role: .dense, id: v.id, shape: v.shape))
        }
        for name in bundle.names where !placed.contains(name) && !bookkeeping.contains(name) && !isSlot(name, of: placed) {
            let shape = (try? bundle.metadata(name).shape) ?? []
            throw .unplacedVariable(bundle: bundle.prefix, name: name, shape: shape)
        }
        var step: Int64?
        if case let .int64(values)? = try? bundle.tensor("global_step").values { step = values.first }
        return (ModelParameters(dense: dense, tables: tables), mapping, step)
    }

    /// TensorFlow's input layer concatenates the deep group sorted by embedding column name
    /// (``EasyRecNaming/columnName(_:)``); odl concatenates it in the spec's group order. This
    /// moves `deep_feature/dnn_0/kernel`'s row blocks (one per deep feature, `embeddingDim` rows
    /// each) from TensorFlow's order into the spec's (the identity for an ``EasyRecExport``,
    /// whose groups are already sorted).
    static func deepKernelInSpecOrder(_ kernel: [Float], spec: ModelSpec) -> [Float] {
        let sorted = spec.deepFeatures.sorted {
            EasyRecNaming.columnName(spec.columns[$0]) < EasyRecNaming.columnName(spec.columns[$1])
        }
        let block = spec.embeddingDim * (kernel.count / max(1, spec.deepFeatures.count * spec.embeddingDim))
        guard block > 0, kernel.count == block * spec.deepFeatures.count else { return kernel }
        var out: [Float] = []
        out.reserveCapacity(kernel.count)
        for feature in spec.deepFeatures {
            guard let source = sorted.firstIndex(of: feature) else { return kernel }
            out += kernel[(source * block)..<((source + 1) * block)]
        }
        return out
    }

    /// An optimizer slot of a placed variable: `<variable>/<Slot>` (`.../Adam`, `.../Adam_1`).
    static func isSlot(_ name: String, of placed: Set<String>) -> Bool {
        guard let slash = name.lastIndex(of: "/") else { return false }
        return placed.contains(String(name[..<slash]))
    }

    static func floats(_ bundle: TensorBundle, _ name: String, expected: [Int], odlName: String) throws(EasyRecError) -> [Float] {
        let read: (shape: [Int], values: [Float])
        do { read = try bundle.floats(name) } catch {
            if case .missingTensor = error { throw .missingVariable(bundle: bundle.prefix, name: name, odlName: odlName) }
            throw .tensorFlow(error)
        }
        // A scalar-per-row vector may be stored as [n] where odl says [n, 1] (and vice versa).
        guard read.shape == expected || read.shape.reduce(1, *) == expected.reduce(1, *) && read.shape.filter({ $0 != 1 }) == expected.filter({ $0 != 1 }) else {
            throw .shapeMismatch(bundle: bundle.prefix, name: name, expected: expected, found: read.shape)
        }
        return read.values
    }
}
