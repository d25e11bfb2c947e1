/// Where the blocks of a validated sparse update message lie in its wire bytes, so the rows can
/// be applied straight from those bytes (``ParameterStore/apply(_:bytes:)``) without decoding
/// them into arrays. Made only by ``UpdateCodec/sparseLayout(_:spec:options:)``, which checks
/// everything ``UpdateCodec/decode(_:spec:options:)`` checks.
public struct SparseWireLayout: Sendable, Equatable {
    /// One block: `keyCount` keys of `keyBytes` each at `keysOffset`, then `keyCount * dim` floats at `valuesOffset`.
    public struct Block: Sendable, Equatable {
        public let embeddingId: Int32
        public let keyCount: Int
        public let dim: Int
        public let keysOffset: Int
        public let valuesOffset: Int
        /// This block's key width: 8 or 4 (EasyRec sends each table's keys in the dtype of its
        /// lookup indices, so one message can mix int32 and int64 blocks).
        public let keyBytes: Int
    }

    public let globalStep: Int32
    /// Key width on the wire: 8 or 4 when every block has it, 0 for a message mixing both.
    public let keyBytes: Int
    public let blocks: [Block]
    /// Length of the message the layout describes.
    public let byteCount: Int

    /// Rows the message carries.
    public var rowCount: Int { blocks.reduce(0) { $0 + $1.keyCount } }

    /// Key `i` of `block` (callers keep `i < block.keyCount` and pass the layout's own bytes).
    @inline(__always)
    func key(_ bytes: UnsafeRawBufferPointer, _ block: Block, _ i: Int) -> Int64 {
        if block.keyBytes == 8 {
            return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: block.keysOffset + 8 * i, as: Int64.self))
        }
        return Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: block.keysOffset + 4 * i, as: Int32.self)))
    }

    /// The message as arrays (what ``UpdateCodec/decode(_:spec:options:)`` returns).
    public func materialize(_ bytes: UnsafeRawBufferPointer) -> SparseUpdate {
        var out: [SparseUpdate.Block] = []
        out.reserveCapacity(blocks.count)
        for b in blocks {
            var keys = [Int64](repeating: 0, count: b.keyCount)
            for i in 0..<b.keyCount { keys[i] = key(bytes, b, i) }
            let values = UpdateCodec.readFloats(bytes, at: b.valuesOffset, count: b.keyCount * b.dim)
            out.append(SparseUpdate.Block(embeddingId: b.embeddingId, keys: keys, values: values))
        }
        return SparseUpdate(globalStep: globalStep, blocks: out, keyBytes: keyBytes == 0 ? 8 : keyBytes)
    }
}
