import Foundation

/// A TensorFlow checkpoint in the TensorBundle format (`PREFIX.index` + `PREFIX.data-*-of-*`),
/// as written by `tf.train.Saver` / `tf.train.Checkpoint` / SavedModel `variables/`.
/// The index is read and verified at init; tensors are read on demand, their CRC32C checked.
public struct TensorBundle: Sendable {
    /// The prefix (`.../model.ckpt-100`, `.../variables/variables`).
    public let prefix: String
    /// Number of data shards.
    public let shardCount: Int
    /// Plain entries by tensor name (partitioned variables: the full entry with `slices`).
    let entries: [String: Tensorflow_BundleEntryProto]
    /// Entries of slices of partitioned variables, by full variable name.
    let sliceEntries: [String: [(key: SliceKey, entry: Tensorflow_BundleEntryProto)]]
    /// The data shards' bytes, by shard id.
    let shards: [[UInt8]]

    /// Opens the bundle at `prefix`.
    public init(prefix: String) throws(TensorFlowIOError) {
        self.prefix = prefix
        let indexPath = prefix + ".index"
        let table = try LevelDBTable(bytes: try Self.readFile(indexPath), file: indexPath)
        var header: Tensorflow_BundleHeaderProto?
        var entries: [String: Tensorflow_BundleEntryProto] = [:]
        var slices: [String: [(key: SliceKey, entry: Tensorflow_BundleEntryProto)]] = [:]
        for (key, value) in table.entries {
            if key.isEmpty {
                do { header = try Tensorflow_BundleHeaderProto(serializedBytes: value) } catch {
                    throw .corrupt(file: indexPath, what: "BundleHeaderProto does not parse: \(error)")
                }
                continue
            }
            let entry: Tensorflow_BundleEntryProto
            do { entry = try Tensorflow_BundleEntryProto(serializedBytes: value) } catch {
                throw .corrupt(file: indexPath, what: "BundleEntryProto of '\(LevelDBTable.printable(key))' does not parse: \(error)")
            }
            if let sliceKey = try SliceKey.decode(key, file: indexPath) {
                slices[sliceKey.name, default: []].append((sliceKey, entry))
            } else {
                entries[String(decoding: key, as: UTF8.self)] = entry
            }
        }
        guard let header else { throw .corrupt(file: indexPath, what: "no bundle header (empty key) in the index") }
        guard header.endianness == .little else { throw .unsupported(file: indexPath, what: "big-endian bundle") }
        guard header.numShards >= 1, header.numShards <= 10_000 else {
            throw .corrupt(file: indexPath, what: "header says \(header.numShards) data shards")
        }
        shardCount = Int(header.numShards)
        shards = try (0..<Int(header.numShards)).map { shard throws(TensorFlowIOError) in
            try Self.readFile(Self.shardPath(prefix: prefix, shard: shard, of: Int(header.numShards)))
        }
        self.entries = entries
        self.sliceEntries = slices
    }

    /// `PREFIX.data-00000-of-00001`.
    static func shardPath(prefix: String, shard: Int, of count: Int) -> String {
        func five(_ value: Int) -> String { String(repeating: "0", count: max(0, 5 - String(value).count)) + String(value) }
        return "\(prefix).data-\(five(shard))-of-\(five(count))"
    }

    static func readFile(_ path: String) throws(TensorFlowIOError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "read failed" : "no such file")
        }
        return [UInt8](data)
    }

    /// The names of all tensors, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The dtype name and shape of `name` without reading its bytes.
    public func metadata(_ name: String) throws(TensorFlowIOError) -> (dtype: Tensorflow_DataType, shape: [Int]) {
        guard let entry = entries[name] else { throw .missingTensor(bundle: prefix, name: name) }
        return (entry.dtype, entry.shape.dim.map { Int($0.size) })
    }

    /// Reads `name` (assembling partitioned variables from their slices), verifying CRC32C.
    public func tensor(_ name: String) throws(TensorFlowIOError) -> TFTensor {
        guard let entry = entries[name] else { throw .missingTensor(bundle: prefix, name: name) }
        let shape = entry.shape.dim.map { Int($0.size) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .corrupt(file: prefix + ".index", what: "tensor '\(name)' has shape \(shape)")
        }
        if entry.slices.isEmpty { return try read(name, entry, shape: shape) }
        return try assemble(name, entry, shape: shape)
    }

    /// The float32 tensor `name`.
    public func floats(_ name: String) throws(TensorFlowIOError) -> (shape: [Int], values: [Float]) {
        let tensor = try tensor(name)
        guard let values = tensor.floats else {
            throw .wrongType(bundle: prefix, name: name, expected: "float", found: tensor.dtypeName)
        }
        return (tensor.shape, values)
    }

    private func read(_ name: String, _ entry: Tensorflow_BundleEntryProto, shape: [Int]) throws(TensorFlowIOError) -> TFTensor {
        let file = Self.shardPath(prefix: prefix, shard: Int(entry.shardID), of: shardCount)
        guard entry.shardID >= 0, Int(entry.shardID) < shards.count else {
            throw .corrupt(file: prefix + ".index", what: "tensor '\(name)' in shard \(entry.shardID) of \(shards.count)")
        }
        let shard = shards[Int(entry.shardID)]
        guard entry.offset >= 0, entry.size >= 0, entry.offset + entry.size <= Int64(shard.count) else {
            throw .truncated(file: file, what: "tensor '\(name)' needs bytes \(entry.offset)..<\(entry.offset + entry.size), the file has \(shard.count)")
        }
        let bytes = shard[Int(entry.offset)..<Int(entry.offset + entry.size)]
        let count = shape.reduce(1, *)
        let values = try TensorDecoding.decode(bytes, dtype: entry.dtype, count: count, name: name, file: file,
                                               storedCRC: CRC32C.unmask(entry.crc32C))
        return TFTensor(shape: shape, values: values)
    }

    private func assemble(_ name: String, _ entry: Tensorflow_BundleEntryProto, shape: [Int]) throws(TensorFlowIOError) -> TFTensor {
        let parts = sliceEntries[name] ?? []
        guard parts.count == entry.slices.count else {
            throw .corrupt(file: prefix + ".index", what: "partitioned '\(name)' lists \(entry.slices.count) slices, the index has \(parts.count)")
        }
        var pieces: [(extents: [(start: Int, length: Int)], tensor: TFTensor)] = []
        for part in parts {
            guard part.key.extents.count == shape.count else {
                throw .corrupt(file: prefix + ".index", what: "slice of '\(name)' has rank \(part.key.extents.count), the tensor \(shape.count)")
            }
            let extents = zip(part.key.extents, shape).map { extent, dim in
                extent.length < 0 ? (start: 0, length: dim) : extent
            }
            let sliceShape = extents.map(\.length)
            pieces.append((extents, try read("\(name) slice \(sliceShape)", part.entry, shape: sliceShape)))
        }
        return try SliceAssembly.assemble(name: name, shape: shape, pieces: pieces, bundle: prefix)
    }
}
