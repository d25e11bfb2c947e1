import ArrayIO
/// Which of the two update kinds a message or Kafka key is.
public enum UpdateKind: String, Sendable, Equatable {
    case dense, sparse
}

/// Binary encoding of incremental updates (formats.md section 1), validation, Kafka keys.
public enum UpdateCodec {
    // MARK: encode

    /// Wire bytes of `message` (little-endian; sparse keys as int64, or int32 when `keyBytes == 4`).
    public static func encode(_ message: UpdateMessage) -> [UInt8] {
        var out: [UInt8] = []
        func put32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putFloats(_ v: [Float]) { v.withUnsafeBytes { out.append(contentsOf: $0) } }
        switch message {
        case .dense(let d):
            out.reserveCapacity(12 + d.variables.count * 8 + d.variables.reduce(0) { $0 + $1.values.count * 4 })
            put32(0); put32(Int32(truncatingIfNeeded: d.variables.count)); put32(d.globalStep)
            for v in d.variables { put32(v.id); put32(Int32(truncatingIfNeeded: v.values.count)) }
            for v in d.variables { putFloats(v.values) }
        case .sparse(let s):
            put32(1); put32(Int32(truncatingIfNeeded: s.blocks.count)); put32(s.globalStep)
            for b in s.blocks { put32(b.embeddingId); put32(Int32(truncatingIfNeeded: b.keys.count)) }
            for b in s.blocks {
                if s.keyBytes == 4 {
                    for k in b.keys { put32(Int32(truncatingIfNeeded: k)) }
                } else {
                    b.keys.withUnsafeBytes { out.append(contentsOf: $0) }
                }
                putFloats(b.values)
            }
        }
        return out
    }

    // MARK: decode

    public static func decode(_ bytes: [UInt8], spec: ModelSpec, options: UpdateOptions = .init()) throws(UpdateError) -> UpdateMessage {
        try withRawBytes(bytes) { (raw) throws(UpdateError) -> UpdateMessage in try decode(raw, spec: spec, options: options) }
    }

    /// Decodes and fully validates one message (formats.md 1.3); throws on anything malformed.
    public static func decode(_ bytes: UnsafeRawBufferPointer, spec: ModelSpec, options: UpdateOptions = .init()) throws(UpdateError) -> UpdateMessage {
        if let layout = try sparseLayout(bytes, spec: spec, options: options) {
            return .sparse(layout.materialize(bytes))
        }
        return try decodeDense(bytes, spec: spec, options: options)
    }

    /// The key width EasyRec's trainer uses for a table: its lookup indices' dtype, int32 for a
    /// bucketized (boundaries) column, int64 otherwise.
    static func modelKeyBytes(_ spec: ModelSpec, _ embedding: EmbeddingSpec) -> Int {
        guard embedding.column >= 0, embedding.column < spec.columns.count else { return 8 }
        if case .boundaries = spec.columns[embedding.column].kind { return 4 }
        return 8
    }

    /// Checks the fixed header; returns kind, count and the end of the entry table.
    private static func header(_ bytes: UnsafeRawBufferPointer, options: UpdateOptions) throws(UpdateError) -> (kind: Int32, n: Int, step: Int32, headerEnd: Int) {
        let total = bytes.count
        guard total >= 12 else { throw .truncatedHeader(needed: 12, got: total) }
        let kind = i32(bytes, 0), n = i32(bytes, 4), step = i32(bytes, 8)
        guard kind == 0 || kind == 1 else { throw .badKind(kind) }
        guard n >= 0 && Int(n) <= options.maxCount else { throw .badCount(n, max: options.maxCount) }
        let headerEnd = 12 + 8 * Int(n)
        guard total >= headerEnd else { throw .truncatedHeader(needed: headerEnd, got: total) }
        return (kind, Int(n), step, headerEnd)
    }

    @inline(__always)
    private static func i32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int32 {
        Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self))
    }

    /// Validates a message in place like ``decode(_:spec:options:)`` (same checks, same errors,
    /// same order) without copying anything. Returns where a sparse message's blocks lie, or nil
    /// for a dense message whose header is sound (decode that one).
    public static func sparseLayout(_ bytes: UnsafeRawBufferPointer, spec: ModelSpec, options: UpdateOptions = .init()) throws(UpdateError) -> SparseWireLayout? {
        let h = try header(bytes, options: options)
        guard h.kind == 1 else { return nil }
        var heads: [(id: Int32, keys: Int, dim: Int)] = []
        heads.reserveCapacity(h.n)
        var body8 = 0, body4 = 0, bodyModel = 0
        for e in 0..<h.n {
            let id = i32(bytes, 12 + 8 * e), nk = i32(bytes, 16 + 8 * e)
            guard id >= 0 && Int(id) < spec.embeddings.count else { throw .unknownEmbedding(id: id) }
            let emb = spec.embeddings[Int(id)]
            guard nk >= 0 else { throw .badBlock(embedding: emb.name, reason: "num_keys \(nk) is negative") }
            heads.append((id, Int(nk), emb.dim))
            body8 += Int(nk) * (8 + 4 * emb.dim)
            body4 += Int(nk) * (4 + 4 * emb.dim)
            bodyModel += Int(nk) * (modelKeyBytes(spec, emb) + 4 * emb.dim)
        }
        let bodyLength = bytes.count - h.headerEnd
        // One width for the whole message, else EasyRec's per-table widths (int32 keys for
        // bucketized columns, int64 for the others) when exactly those fit.
        let keyBytes: Int
        if bodyLength == body8 { keyBytes = 8 } else if bodyLength == body4 { keyBytes = 4 } else if bodyLength == bodyModel {
            keyBytes = 0
        } else {
            throw .keyWidthMismatch(bodyBytes: bodyLength, withInt64Keys: body8, withInt32Keys: body4)
        }
        var blocks: [SparseWireLayout.Block] = []
        blocks.reserveCapacity(h.n)
        var at = h.headerEnd
        for b in heads {
            let width = keyBytes != 0 ? keyBytes : modelKeyBytes(spec, spec.embeddings[Int(b.id)])
            let block = SparseWireLayout.Block(embeddingId: b.id, keyCount: b.keys, dim: b.dim, keysOffset: at,
                                               valuesOffset: at + width * b.keys, keyBytes: width)
            blocks.append(block)
            at = block.valuesOffset + 4 * b.keys * b.dim
        }
        let layout = SparseWireLayout(globalStep: h.step, keyBytes: keyBytes, blocks: blocks, byteCount: bytes.count)
        for b in blocks {
            let emb = spec.embeddings[Int(b.embeddingId)]
            if let rows = emb.rows {
                for i in 0..<b.keyCount {
                    let k = layout.key(bytes, b, i)
                    if k < 0 || k >= Int64(rows) { throw .keyOutOfRange(embedding: emb.name, key: k, rows: rows) }
                }
            }
            if !options.allowNonFinite, let bad = firstNonFinite(bytes, at: b.valuesOffset, count: b.keyCount * b.dim) {
                throw .nonFinite(parameter: emb.name, index: bad)
            }
        }
        return layout
    }

    private static func decodeDense(_ bytes: UnsafeRawBufferPointer, spec: ModelSpec, options: UpdateOptions) throws(UpdateError) -> UpdateMessage {
        let h = try header(bytes, options: options)
        let total = bytes.count
        var entries: [(id: Int32, count: Int)] = []
        entries.reserveCapacity(h.n)
        var body = 0
        for e in 0..<h.n {
            let id = i32(bytes, 12 + 8 * e), ne = i32(bytes, 16 + 8 * e)
            guard id >= 0 && Int(id) < spec.denseVariables.count else { throw .unknownVariable(id: id) }
            let v = spec.denseVariables[Int(id)]
            guard Int(ne) == v.elementCount else {
                throw .elementCountMismatch(variable: v.name, expected: v.elementCount, got: Int(ne))
            }
            entries.append((id, Int(ne)))
            body += Int(ne) * 4
        }
        if total < h.headerEnd + body { throw .truncatedBody(needed: h.headerEnd + body, got: total) }
        if total > h.headerEnd + body { throw .trailingBytes(expected: h.headerEnd + body, got: total) }
        var vars: [(id: Int32, values: [Float])] = []
        vars.reserveCapacity(entries.count)
        var at = h.headerEnd
        for e in entries {
            let values = readFloats(bytes, at: at, count: e.count)
            if !options.allowNonFinite, let bad = firstNonFinite(values) {
                throw .nonFinite(parameter: spec.denseVariables[Int(e.id)].name, index: bad)
            }
            vars.append((e.id, values))
            at += e.count * 4
        }
        return .dense(DenseUpdate(globalStep: h.step, variables: vars))
    }

    /// Index of the first NaN or infinite float among `count` little-endian floats at byte
    /// `at`. Scans in chunks without branching on each value (vectorizes), then locates.
    static func firstNonFinite(_ bytes: UnsafeRawBufferPointer, at: Int, count: Int) -> Int? {
        guard count > 0, let base = bytes.baseAddress else { return nil }
        let p = base + at
        var start = 0
        while start < count {
            let n = min(1024, count - start)
            let chunk = p + 4 &* start
            var flag: UInt32 = 0
            var j = 0
            while j < n {
                let w = UInt32(littleEndian: chunk.loadUnaligned(fromByteOffset: 4 &* j, as: UInt32.self))
                // Bit 31 set exactly when the exponent bits are all ones (NaN or infinity).
                flag |= (w & 0x7f80_0000) &+ 0x0080_0000
                j &+= 1
            }
            if flag & 0x8000_0000 != 0 {
                for j in 0..<n {
                    let w = UInt32(littleEndian: chunk.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))
                    if (w & 0x7f80_0000) == 0x7f80_0000 { return start + j }
                }
            }
            start += n
        }
        return nil
    }

    static func readFloats(_ bytes: UnsafeRawBufferPointer, at: Int, count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        if count > 0 {
            values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 4 * count)])) }
            #if _endian(big)
            for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
            #endif
        }
        return values
    }

    static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { p in
            // Exponent bits all ones = NaN or infinity.
            for i in 0..<p.count where (p[i].bitPattern & 0x7f80_0000) == 0x7f80_0000 { return i }
            return nil
        }
    }

    // MARK: validate a message built in memory

    /// Validates a message that did not come from ``decode(_:spec:options:)`` (same rules).
    public static func validate(_ message: UpdateMessage, spec: ModelSpec, options: UpdateOptions = .init()) throws(UpdateError) {
        switch message {
        case .dense(let d):
            guard d.variables.count <= options.maxCount else { throw .badCount(Int32(clamping: d.variables.count), max: options.maxCount) }
            for v in d.variables {
                guard v.id >= 0 && Int(v.id) < spec.denseVariables.count else { throw .unknownVariable(id: v.id) }
                let s = spec.denseVariables[Int(v.id)]
                guard v.values.count == s.elementCount else {
                    throw .elementCountMismatch(variable: s.name, expected: s.elementCount, got: v.values.count)
                }
                if !options.allowNonFinite, let bad = firstNonFinite(v.values) { throw .nonFinite(parameter: s.name, index: bad) }
            }
        case .sparse(let s):
            guard s.blocks.count <= options.maxCount else { throw .badCount(Int32(clamping: s.blocks.count), max: options.maxCount) }
            for b in s.blocks {
                guard b.embeddingId >= 0 && Int(b.embeddingId) < spec.embeddings.count else { throw .unknownEmbedding(id: b.embeddingId) }
                let e = spec.embeddings[Int(b.embeddingId)]
                guard b.values.count == b.keys.count * e.dim else {
                    throw .badBlock(embedding: e.name, reason: "\(b.values.count) values for \(b.keys.count) keys of width \(e.dim)")
                }
                if let rows = e.rows {
                    for k in b.keys where k < 0 || k >= Int64(rows) { throw .keyOutOfRange(embedding: e.name, key: k, rows: rows) }
                }
                if !options.allowNonFinite, let bad = firstNonFinite(b.values) { throw .nonFinite(parameter: e.name, index: bad) }
            }
        }
    }

    // MARK: Kafka keys

    /// `dense_update_<step>` or `sparse_update_<step>`.
    public static func kafkaKey(for message: UpdateMessage) -> String {
        switch message {
        case .dense(let d): return "dense_update_\(d.globalStep)"
        case .sparse(let s): return "sparse_update_\(s.globalStep)"
        }
    }

    /// Parses a Kafka key (or fs-mode file name) `dense_update_<step>` / `sparse_update_<step>`.
    public static func parseKafkaKey(_ key: String) -> (kind: UpdateKind, step: Int64)? {
        for (prefix, kind) in [("dense_update_", UpdateKind.dense), ("sparse_update_", .sparse)] where key.hasPrefix(prefix) {
            let rest = key.dropFirst(prefix.count)
            guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && $0.isNumber || $0 == "-" }), let step = Int64(rest) else { return nil }
            return (kind, step)
        }
        return nil
    }
}
