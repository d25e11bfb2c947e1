import Inference

/// Builds incremental update messages (formats.md 1.1/1.2), split so that no encoded message
/// exceeds a byte cap (encoding: Inference's `UpdateCodec`).
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
}
