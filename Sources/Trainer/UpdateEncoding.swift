import Inference

/// Builds and encodes incremental update messages (formats.md 1.1/1.2), split so that no
/// message exceeds a byte cap.
public enum UpdateEncoding {
    /// Splits the dense variables `ids` into messages of at most `maxBytes` (one variable may exceed it alone).
    public static func denseMessages(step: Int32, ids: [Int], values: (Int) -> [Float], maxBytes: Int) -> [DenseUpdate] {
        var out: [DenseUpdate] = []
        var current: [(id: Int32, values: [Float])] = []
        var size = 12
        for id in ids {
            let v = values(id)
            let cost = 8 + v.count * 4
            if !current.isEmpty, size + cost > maxBytes {
                out.append(DenseUpdate(globalStep: step, variables: current))
                current = []
                size = 12
            }
            current.append((Int32(id), v))
            size += cost
        }
        if !current.isEmpty || out.isEmpty { out.append(DenseUpdate(globalStep: step, variables: current)) }
        return out
    }

    /// Splits rows (per embedding id: keys, and their `dim`-wide values) into sparse messages of at
    /// most `maxBytes`; a table may span several messages (same embed id in several blocks).
    /// Always returns at least one message (possibly with no blocks).
    public static func sparseMessages(step: Int32, tables: [(embeddingId: Int, dim: Int, keys: [Int64], values: [Float])],
                                      maxBytes: Int) -> [SparseUpdate] {
        var out: [SparseUpdate] = []
        var blocks: [SparseUpdate.Block] = []
        var size = 12
        for t in tables where !t.keys.isEmpty {
            let rowBytes = 8 + t.dim * 4
            var start = 0
            while start < t.keys.count {
                var room = (maxBytes - size - 8) / rowBytes
                if room < 1 {
                    if !blocks.isEmpty {
                        out.append(SparseUpdate(globalStep: step, blocks: blocks))
                        blocks = []
                        size = 12
                        continue
                    }
                    room = 1
                }
                let end = min(t.keys.count, start + room)
                blocks.append(SparseUpdate.Block(embeddingId: Int32(t.embeddingId), keys: Array(t.keys[start..<end]),
                                                 values: Array(t.values[(start * t.dim)..<(end * t.dim)])))
                size += 8 + (end - start) * rowBytes
                start = end
            }
        }
        if !blocks.isEmpty || out.isEmpty { out.append(SparseUpdate(globalStep: step, blocks: blocks)) }
        return out
    }

    /// Wire bytes of a dense message.
    public static func encode(_ m: DenseUpdate) -> [UInt8] {
        var w = Writer()
        w.i32(0); w.i32(Int32(m.variables.count)); w.i32(m.globalStep)
        for v in m.variables { w.i32(v.id); w.i32(Int32(v.values.count)) }
        for v in m.variables { w.floats(v.values) }
        return w.bytes
    }

    /// Wire bytes of a sparse message (int64 keys).
    public static func encode(_ m: SparseUpdate) -> [UInt8] {
        var w = Writer()
        w.i32(1); w.i32(Int32(m.blocks.count)); w.i32(m.globalStep)
        for b in m.blocks { w.i32(b.embeddingId); w.i32(Int32(b.keys.count)) }
        for b in m.blocks {
            b.keys.withUnsafeBytes { w.bytes.append(contentsOf: $0) }
            w.floats(b.values)
        }
        return w.bytes
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        mutating func floats(_ v: [Float]) { v.withUnsafeBytes { bytes.append(contentsOf: $0) } }
    }
}
