import FG
import Inference

/// Fuzzes the update path: random valid messages and mutations of them (bit flips,
/// truncation, extension, header edits, NaN injection, out-of-range keys) go through
/// ``UpdateCodec/decode(_:spec:options:)`` and ``ParameterStore/apply(_:options:)``.
/// Checks, for every message: no crash; a rejected message leaves the store's checksum
/// unchanged; an accepted one re-encodes to exactly its bytes and leaves the store equal to
/// an independently maintained shadow model (dictionaries and arrays, compared in full
/// periodically and at the end). Used by the unit test and by `odl inspect --bench`.
package struct UpdateFuzzer {
    /// What a run observed.
    package struct Report: Sendable {
        package var messages = 0
        package var accepted = 0
        package var rejected = 0
        package var rejectedByReason: [String: Int] = [:]
        package var storeLevelRejections = 0
        /// Broken guarantees (empty when all is well).
        package var violations: [String] = []
    }

    /// Spec of the fuzzed model: 3 dense variables, 2 fixed tables and a key-value table.
    package static let spec: ModelSpec = {
        let f = FeatureColumnSpec(name: "f", inputNames: ["f"], kind: .hashed(bucketSize: 16), embeddingDim: 3)
        let k = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: 3)
        return ModelSpec(columns: [f, k], wideFeatures: [0], deepFeatures: [0, 1],
                         embeddings: [EmbeddingSpec(id: 0, name: "input_layer/f_embedding", dim: 1, rows: 16, part: .wide, column: 0),
                                      EmbeddingSpec(id: 1, name: "input_layer_1/f_embedding", dim: 3, rows: 16, part: .deep, column: 0),
                                      EmbeddingSpec(id: 2, name: "input_layer_1/k_embedding", dim: 3, rows: nil, part: .deep, column: 1)],
                         denseVariables: [DenseVariableSpec(id: 0, name: "a", shape: [2, 2]),
                                          DenseVariableSpec(id: 1, name: "b", shape: [3]),
                                          DenseVariableSpec(id: 2, name: "c", shape: [1])],
                         wideOutputDim: 1, embeddingDim: 3, dnnHidden: [], finalDnnHidden: nil)
    }()

    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func float() -> Float { Float(Int(next() % 2001) - 1000) / 64 }
    }

    /// The independent model of what the store should hold.
    struct Shadow {
        var dense: [[Float]]
        var fixed: [Int: [Float]]
        var kv: [Int64: [Float]] = [:]

        mutating func apply(_ m: UpdateMessage, spec: ModelSpec) -> ApplyCounts {
            var c = ApplyCounts()
            switch m {
            case .dense(let d):
                for v in d.variables { dense[Int(v.id)] = v.values }
                c.variables = d.variables.count
            case .sparse(let s):
                for b in s.blocks {
                    let dim = spec.embeddings[Int(b.embeddingId)].dim
                    for (i, k) in b.keys.enumerated() {
                        let row = Array(b.values[(i * dim)..<((i + 1) * dim)])
                        if b.embeddingId == 2 {
                            if kv[k] == nil { c.rowsInserted += 1 } else { c.rowsUpdated += 1 }
                            kv[k] = row
                        } else {
                            fixed[Int(b.embeddingId), default: []].replaceSubrange((Int(k) * dim)..<((Int(k) + 1) * dim), with: row)
                            c.rowsUpdated += 1
                        }
                    }
                }
            }
            return c
        }
    }

    static let kvPool: [Int64] = (0..<64).map { Int64($0) * 0x1_0000_0001 - 5 }

    static func randomMessage(_ r: inout Rng) -> UpdateMessage {
        let step = Int32(truncatingIfNeeded: r.next())
        if r.below(2) == 0 {
            var vars: [(id: Int32, values: [Float])] = []
            for _ in 0..<r.below(4) {
                let id = r.below(3)
                vars.append((Int32(id), (0..<spec.denseVariables[id].elementCount).map { _ in r.float() }))
            }
            return .dense(DenseUpdate(globalStep: step, variables: vars))
        }
        var blocks: [SparseUpdate.Block] = []
        for _ in 0..<(1 + r.below(3)) {
            let id = r.below(3)
            let e = spec.embeddings[id]
            let n = 1 + r.below(4)
            let keys: [Int64] = (0..<n).map { _ in id == 2 ? kvPool[r.below(kvPool.count)] : Int64(r.below(16)) }
            blocks.append(.init(embeddingId: Int32(id), keys: keys, values: (0..<(n * e.dim)).map { _ in r.float() }))
        }
        return .sparse(SparseUpdate(globalStep: step, blocks: blocks, keyBytes: r.below(8) == 0 ? 4 : 8))
    }

    static func mutate(_ bytes: inout [UInt8], _ r: inout Rng) {
        for _ in 0..<(1 + r.below(3)) {
            switch r.below(7) {
            case 0:  // bit flip
                if !bytes.isEmpty { bytes[r.below(bytes.count)] ^= UInt8(1 << r.below(8)) }
            case 1:  // truncate
                bytes.removeLast(min(bytes.count, 1 + r.below(12)))
            case 2:  // extend
                for _ in 0..<(1 + r.below(8)) { bytes.append(UInt8(truncatingIfNeeded: r.next())) }
            case 3:  // header word edit: kind, n, step or an entry field
                let words = max(1, min(bytes.count / 4, 3 + 2 * 4))
                let w = r.below(words) * 4
                let values: [Int32] = [0, 1, 2, -1, 3, 4, 16, 1 << 20, Int32.max, Int32.min, Int32(truncatingIfNeeded: r.next())]
                let v = values[r.below(values.count)]
                if w + 4 <= bytes.count { withUnsafeBytes(of: v.littleEndian) { bytes.replaceSubrange(w..<(w + 4), with: $0) } }
            case 4:  // NaN / Inf somewhere in the body
                let specials: [UInt32] = [0x7fc0_0000, 0x7f80_0000, 0xff80_0000]
                if bytes.count >= 16 {
                    let at = 12 + r.below((bytes.count - 12) / 4) * 4
                    if at + 4 <= bytes.count {
                        withUnsafeBytes(of: specials[r.below(3)].littleEndian) { bytes.replaceSubrange(at..<(at + 4), with: $0) }
                    }
                }
            case 5:  // cut to a random length
                bytes.removeLast(bytes.isEmpty ? 0 : r.below(bytes.count))
            default:  // duplicate a chunk
                if bytes.count > 8 {
                    let a = r.below(bytes.count - 4)
                    bytes.insert(contentsOf: bytes[a..<(a + 4)], at: r.below(bytes.count))
                }
            }
        }
    }

    /// Runs `count` messages from `seed`.
    package static func run(count: Int, seed: UInt64 = 1) -> Report {
        var report = Report()
        var r = Rng(s: seed)
        let dense = spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) }
        let params = ModelParameters(dense: dense, tables: [.fixed(rows: 16, dim: 1, values: [Float](repeating: 0, count: 16)),
                                                           .fixed(rows: 16, dim: 3, values: [Float](repeating: 0, count: 48)),
                                                           .keyValue(dim: 3, keys: [], values: [])])
        let store: ParameterStore
        do { store = try ParameterStore(spec: spec, parameters: params) } catch {
            report.violations.append("cannot build store: \(error)")
            return report
        }
        var shadow = Shadow(dense: dense, fixed: [0: [Float](repeating: 0, count: 16), 1: [Float](repeating: 0, count: 48)])
        var checksum = store.checksum()
        let golden: [[UInt8]] = [
            UpdateCodec.encode(.dense(DenseUpdate(globalStep: 100, variables: [(0, [1, 2, 3, 4]), (1, [0.5, -1, 2])]))),
            UpdateCodec.encode(.sparse(SparseUpdate(globalStep: 100, blocks: [.init(embeddingId: 1, keys: [5, 9], values: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])]))),
        ]
        func violation(_ s: String) { if report.violations.count < 20 { report.violations.append(s) } }

        for i in 0..<count {
            report.messages += 1
            var bytes = r.below(10) == 0 ? golden[r.below(2)] : UpdateCodec.encode(randomMessage(&r))
            if r.below(8) != 0 { mutate(&bytes, &r) }
            let decoded: UpdateMessage
            do {
                decoded = try UpdateCodec.decode(bytes, spec: spec)
            } catch {
                report.rejected += 1
                report.rejectedByReason[error.reason, default: 0] += 1
                if store.checksum() != checksum { violation("message \(i): checksum changed after a rejection") }
                continue
            }
            if UpdateCodec.encode(decoded) != bytes { violation("message \(i): accepted bytes do not re-encode identically") }
            // Store-level atomicity: corrupt the LAST block/variable of an accepted message so a
            // non-atomic apply would already have written the earlier ones.
            if r.below(4) == 0, let bad = corruptLast(decoded, &r) {
                do {
                    _ = try store.apply(bad)
                    violation("message \(i): store accepted an invalid message")
                } catch {
                    report.storeLevelRejections += 1
                }
                if store.checksum() != checksum { violation("message \(i): store changed by a rejected message") }
            }
            let counts: ApplyCounts
            do { counts = try store.apply(decoded) } catch {
                violation("message \(i): store rejected a decoded message: \(error)")
                continue
            }
            let expected = shadow.apply(decoded, spec: spec)
            if counts != expected { violation("message \(i): counts \(counts) != shadow \(expected)") }
            report.accepted += 1
            checksum = store.checksum()
            if i % 4096 == 0 || i == count - 1 {
                if let d = compare(store, shadow) { violation("message \(i): store differs from shadow: \(d)") }
            }
        }
        if let d = compare(store, shadow) { violation("end: store differs from shadow: \(d)") }
        return report
    }

    static func corruptLast(_ m: UpdateMessage, _ r: inout Rng) -> UpdateMessage? {
        switch m {
        case .dense(var d):
            guard !d.variables.isEmpty else { return nil }
            let last = d.variables.count - 1
            if r.below(2) == 0 { d.variables[last].values[0] = .nan } else { d.variables[last].values.append(1) }
            return .dense(d)
        case .sparse(var s):
            guard let last = s.blocks.indices.last, !s.blocks[last].keys.isEmpty else { return nil }
            if s.blocks[last].embeddingId == 2 {
                s.blocks[last].values.append(1)
            } else {
                s.blocks[last].keys[s.blocks[last].keys.count - 1] = r.below(2) == 0 ? 16 : -1
            }
            return .sparse(s)
        }
    }

    static func compare(_ store: ParameterStore, _ shadow: Shadow) -> String? {
        let p = store.snapshotParameters()
        if p.dense != shadow.dense { return "dense" }
        for t in 0..<2 {
            guard case .fixed(_, _, let v) = p.tables[t] else { return "table \(t) kind" }
            if v != shadow.fixed[t] { return "table \(t)" }
        }
        guard case .keyValue(_, let keys, let values) = p.tables[2] else { return "kv kind" }
        if keys.count != shadow.kv.count { return "kv has \(keys.count) keys, shadow \(shadow.kv.count)" }
        for (i, k) in keys.enumerated() where Array(values[(i * 3)..<(i * 3 + 3)]) != shadow.kv[k] { return "kv key \(k)" }
        return nil
    }
}
