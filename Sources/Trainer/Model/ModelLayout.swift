import FG
import Inference

/// One dense layer (`<scope>/dnn_i` or the 1-unit head) resolved to dense variable ids.
struct DenseLayerLayout {
    var inDim: Int
    var outDim: Int
    var kernel: Int
    var bias: Int
    /// Batch norm variables (gamma, beta, moving_mean, moving_variance) when the layer uses BN.
    var bn: (gamma: Int, beta: Int, mean: Int, variance: Int)?
    /// ReLU after the layer (hidden layers yes, the head no).
    var relu: Bool
}

/// One embedding lookup task: wide feature j or deep feature f (positions in their group).
enum LookupUnit: Equatable {
    case wide(Int)
    case deep(Int)
}

/// The DeepFM structure of a ``ModelSpec`` resolved once: which table feeds each feature
/// and which dense variables each layer uses (deepfm.md).
struct ModelLayout {
    /// Embedding ids per wide feature (in `wideFeatures` order) and per deep feature.
    var wideTables: [Int]
    var deepTables: [Int]
    /// Columns of the wide and deep features.
    var wideColumns: [Int]
    var deepColumns: [Int]
    var wideDim: Int
    var deepDim: Int
    var dnn: [DenseLayerLayout]
    var finalDnn: [DenseLayerLayout]?
    /// `output` (with final_dnn) or `deep_logits` (without).
    var head: DenseLayerLayout
    /// Dense variable ids that receive gradients (kernels, biases, gamma, beta).
    var trainableDense: [Int]
    /// Kernel ids (l2_regularization applies to them).
    var kernels: [Int]
    /// Layers from the deep input: `dnn` (+ the `deep_logits` head when there is no final_dnn).
    var deepStack: [DenseLayerLayout]
    /// Layers from concat(wide, fm, deep): `final_dnn` + the `output` head; empty without final_dnn.
    var topStack: [DenseLayerLayout]
    /// Columns read by the wide or deep group, ascending.
    var usedColumns: [Int]
    /// Lookup tasks in two parts of similar cost such that no table is used by both parts
    /// (features sharing a table stay together); one part when that is impossible.
    var lookupPartition: [[LookupUnit]]

    var deepInputDim: Int { deepTables.count * deepDim }
    var deepOutputDim: Int { dnn.last?.outDim ?? deepInputDim }

    init(spec: ModelSpec) throws {
        let byName = Dictionary(spec.denseVariables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, v) in spec.denseVariables.enumerated() where v.id != i {
            throw TrainerModelError.invalidSpec("dense variable '\(v.name)' has id \(v.id) at position \(i)")
        }
        for (i, e) in spec.embeddings.enumerated() where e.id != i {
            throw TrainerModelError.invalidSpec("embedding '\(e.name)' has id \(e.id) at position \(i)")
        }
        func variable(_ name: String, _ shape: [Int]) throws -> Int {
            guard let v = byName[name] else { throw TrainerModelError.missingDenseVariable(name: name) }
            guard v.shape == shape else {
                throw TrainerModelError.denseShapeMismatch(name: name, expected: shape, found: v.shape)
            }
            return v.id
        }
        func layers(_ scope: String, input: Int, hidden: [Int], bn: Bool) throws -> [DenseLayerLayout] {
            var k = input
            var out: [DenseLayerLayout] = []
            for (i, n) in hidden.enumerated() {
                guard n > 0 else { throw TrainerModelError.invalidSpec("\(scope) hidden unit \(i) is \(n)") }
                let p = "\(scope)/dnn_\(i)"
                var l = DenseLayerLayout(inDim: k, outDim: n, kernel: try variable("\(p)/kernel", [k, n]),
                                         bias: try variable("\(p)/bias", [n]), bn: nil, relu: true)
                if bn {
                    l.bn = (try variable("\(p)/bn/gamma", [n]), try variable("\(p)/bn/beta", [n]),
                            try variable("\(p)/bn/moving_mean", [n]), try variable("\(p)/bn/moving_variance", [n]))
                }
                out.append(l)
                k = n
            }
            return out
        }
        func table(_ column: Int, part: EmbeddingSpec.Part, dim: Int) throws -> Int {
            guard spec.columns.indices.contains(column) else {
                throw TrainerModelError.invalidSpec("\(part.rawValue) group refers to column \(column) of \(spec.columns.count)")
            }
            let col = spec.columns[column]
            // The Inference naming decides (shared tables included); then hand-built specs by column.
            let found = spec.tableId(column: column, part: part).map { spec.embeddings[$0] }
                ?? spec.embeddings.first { $0.part == part && $0.column == column }
            guard let e = found else { throw TrainerModelError.missingEmbedding(feature: col.name, part: part.rawValue) }
            guard e.dim == dim else { throw TrainerModelError.embeddingDimMismatch(name: e.name, expected: dim, found: e.dim) }
            return e.id
        }

        wideColumns = spec.wideFeatures
        deepColumns = spec.deepFeatures
        wideDim = spec.wideOutputDim
        deepDim = spec.embeddingDim
        guard wideDim > 0 else { throw TrainerModelError.invalidSpec("wide_output_dim \(wideDim)") }
        guard deepDim > 0 || spec.deepFeatures.isEmpty else { throw TrainerModelError.invalidSpec("embedding dim \(deepDim)") }
        wideTables = try spec.wideFeatures.map { try table($0, part: .wide, dim: spec.wideOutputDim) }
        deepTables = try spec.deepFeatures.map { try table($0, part: .deep, dim: spec.embeddingDim) }
        let deepIn = spec.deepFeatures.count * spec.embeddingDim
        dnn = try layers("deep_feature", input: deepIn, hidden: spec.dnnHidden, bn: spec.dnnUseBN)
        let deepOut = dnn.last?.outDim ?? deepIn
        if let fh = spec.finalDnnHidden {
            let f = try layers("final_dnn", input: 1 + spec.embeddingDim + deepOut, hidden: fh, bn: spec.finalDnnUseBN)
            finalDnn = f
            let k = f.last?.outDim ?? (1 + spec.embeddingDim + deepOut)
            head = DenseLayerLayout(inDim: k, outDim: 1, kernel: try variable("output/kernel", [k, 1]),
                                    bias: try variable("output/bias", [1]), bn: nil, relu: false)
        } else {
            finalDnn = nil
            head = DenseLayerLayout(inDim: deepOut, outDim: 1, kernel: try variable("deep_logits/kernel", [deepOut, 1]),
                                    bias: try variable("deep_logits/bias", [1]), bn: nil, relu: false)
        }
        var trainable: [Int] = []
        var kernels: [Int] = []
        for l in dnn + (finalDnn ?? []) + [head] {
            trainable += [l.kernel, l.bias]
            kernels.append(l.kernel)
            if let b = l.bn { trainable += [b.gamma, b.beta] }
        }
        trainableDense = trainable
        self.kernels = kernels
        let headLayer = head
        deepStack = finalDnn == nil ? dnn + [headLayer] : dnn
        topStack = (finalDnn ?? []) + (finalDnn == nil ? [] : [headLayer])
        usedColumns = Set(spec.wideFeatures + spec.deepFeatures).sorted()
        lookupPartition = Self.partition(wideTables: wideTables, deepTables: deepTables,
                                         wideDim: wideDim, deepDim: deepDim)
    }

    /// Greedy split of the lookup tasks, grouped by table, into two parts of similar cost.
    static func partition(wideTables: [Int], deepTables: [Int], wideDim: Int, deepDim: Int) -> [[LookupUnit]] {
        var groups: [Int: [LookupUnit]] = [:]
        var cost: [Int: Int] = [:]
        var order: [Int] = []
        func add(_ table: Int, _ unit: LookupUnit, _ c: Int) {
            if groups[table] == nil { order.append(table) }
            groups[table, default: []].append(unit)
            cost[table, default: 0] += c
        }
        for (j, t) in wideTables.enumerated() { add(t, .wide(j), wideDim + 4) }
        for (f, t) in deepTables.enumerated() { add(t, .deep(f), deepDim + 4) }
        guard order.count >= 2 else { return [order.flatMap { groups[$0] ?? [] }] }
        var parts: [[LookupUnit]] = [[], []]
        var load = [0, 0]
        for t in order.sorted(by: { (cost[$0] ?? 0, $1) > (cost[$1] ?? 0, $0) }) {
            let p = load[0] <= load[1] ? 0 : 1
            parts[p] += groups[t] ?? []
            load[p] += cost[t] ?? 0
        }
        // Within a part, keep the model's order (wide first, by position) for readability.
        func key(_ u: LookupUnit) -> Int {
            switch u {
            case .wide(let j): return j
            case .deep(let f): return 1_000_000 + f
            }
        }
        return parts.map { $0.sorted { key($0) < key($1) } }
    }
}
