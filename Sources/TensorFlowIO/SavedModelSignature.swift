import Foundation

/// What odl reads from a SavedModel's `saved_model.pb`: the serving signature's inputs and
/// outputs, the optional `incr_update_sig`, and the graph's ops (for hash bucket sizes).
public struct SavedModelSignature: Sendable, Equatable {
    /// One signature tensor: its key, graph tensor name, dtype and static shape (-1 unknown).
    public struct TensorSpec: Sendable, Equatable {
        public var key: String
        public var tensorName: String
        public var dtype: String
        public var shape: [Int]?
    }

    /// `serving_default` inputs, sorted by key (one per raw feature in an EasyRec export).
    public var inputs: [TensorSpec]
    /// `serving_default` outputs, sorted by key (`logits`, `probs`, ...).
    public var outputs: [TensorSpec]
    /// `incr_update_sig` inputs, empty when the export has none.
    public var incrUpdateInputs: [TensorSpec]
    /// The meta graph's tags (`serve`).
    public var tags: [String]
    /// TensorFlow version that wrote the model, when recorded.
    public var tensorflowVersion: String
    /// `num_buckets` of each StringToHashBucketFast op, by node name.
    public var hashBuckets: [String: Int]
    /// Number of graph nodes per op type.
    public var opCounts: [String: Int]
    /// Names of the graph's variables (VarHandleOp / VariableV2 nodes) in graph order, which
    /// is their creation order (the order of `tf.global_variables()`).
    public var variables: [String]

    /// Reads `<dir>/saved_model.pb`.
    public init(directory dir: String) throws(TensorFlowIOError) {
        let path = (dir as NSString).appendingPathComponent("saved_model.pb")
        let bytes = try TensorBundle.readFile(path)
        let model: Tensorflow_SavedModel
        do { model = try Tensorflow_SavedModel(serializedBytes: bytes) } catch {
            throw .corrupt(file: path, what: "SavedModel proto does not parse: \(error)")
        }
        guard let graph = model.metaGraphs.first(where: { $0.metaInfoDef.tags.contains("serve") }) ?? model.metaGraphs.first else {
            throw .corrupt(file: path, what: "no meta graph")
        }
        guard let serving = graph.signatureDef["serving_default"] else {
            throw .corrupt(file: path, what: "no serving_default signature (has: \(graph.signatureDef.keys.sorted().joined(separator: ", ")))")
        }
        func specs(_ map: [String: Tensorflow_TensorInfo]) -> [TensorSpec] {
            map.sorted { $0.key < $1.key }.map { key, info in
                TensorSpec(key: key, tensorName: info.name, dtype: Self.dtypeName(info.dtype),
                           shape: info.tensorShape.unknownRank ? nil : info.tensorShape.dim.map { Int($0.size) })
            }
        }
        inputs = specs(serving.inputs)
        outputs = specs(serving.outputs)
        incrUpdateInputs = specs(graph.signatureDef["incr_update_sig"]?.inputs ?? [:])
        tags = graph.metaInfoDef.tags
        tensorflowVersion = graph.metaInfoDef.tensorflowVersion
        var buckets: [String: Int] = [:]
        var counts: [String: Int] = [:]
        var variables: [String] = []
        for node in graph.graphDef.node {
            counts[node.op, default: 0] += 1
            if node.op == "VarHandleOp" || node.op == "VariableV2" || node.op == "Variable" { variables.append(node.name) }
            if node.op == "StringToHashBucketFast", case let .i(n)? = node.attr["num_buckets"]?.value {
                buckets[node.name] = Int(n)
            }
        }
        hashBuckets = buckets
        opCounts = counts
        self.variables = variables
    }

    /// TensorFlow's short dtype name (`float`, `string`, `int64`, ...).
    public static func dtypeName(_ type: Tensorflow_DataType) -> String {
        switch type {
        case .dtFloat: return "float"
        case .dtDouble: return "double"
        case .dtInt32: return "int32"
        case .dtInt64: return "int64"
        case .dtString: return "string"
        case .dtBool: return "bool"
        default: return "dtype(\(type.rawValue))"
        }
    }
}
