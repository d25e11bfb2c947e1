/// Turns a ``FeatureBatch`` (FG outputs, training samples, or bypass request fields) into the
/// model input ``EncodedBatch`` following the feature columns (fg.md section 4). Immutable and
/// shareable; `encode` allocates nothing once the output buffers have grown.
public struct ColumnEncoder: Sendable {
    public let specs: [FeatureColumnSpec]
    /// Slot names of the batches this encoder reads.
    public let layout: [String]
    let columns: [EncoderColumn]

    /// Maximum ids of one crossed (combo) column for one item; further combinations are dropped.
    public static let maxCrossedIds = 10_000

    /// Bind `specs` to the slots of batches laid out as `layout` (a spec input missing from the
    /// layout is an error naming the column and input).
    public init(specs: [FeatureColumnSpec], layout: [String]) throws(FGError) {
        self.specs = specs
        self.layout = layout
        var index: [String: Int] = [:]
        for (i, n) in layout.enumerated() where index[n] == nil { index[n] = i }
        var cols: [EncoderColumn] = []
        for s in specs {
            var slots: [Int] = []
            for n in s.inputNames {
                guard let i = index[n] else { throw .missingInput(column: s.name, input: n) }
                slots.append(i)
            }
            guard !slots.isEmpty else { throw .missingInput(column: s.name, input: "(none)") }
            cols.append(EncoderColumn(spec: s, slots: slots))
        }
        columns = cols
    }

    /// Encode every item of `batch` into `out` (reset first; buffers reused).
    public func encode(_ batch: FeatureBatch, into out: inout EncodedBatch) throws(FGError) {
        guard batch.names == layout else {
            throw .missingInput(column: "(layout)", input: "batch slots \(batch.names) differ from the encoder layout \(layout)")
        }
        if out.columns.count != columns.count { out = EncodedBatch(columnCount: columns.count) }
        out.reset()
        out.batchSize = batch.itemCount
        batch.bytes.withUnsafeBytes { raw in
            for (ci, c) in columns.enumerated() {
                c.encode(batch, raw, &out.columns[ci])
            }
        }
    }
}

/// One column bound to its slots (internal; a class so the hot loop does not copy its fields).
final class EncoderColumn: Sendable {
    let spec: FeatureColumnSpec
    let slots: [Int]
    /// Vocabulary: fingerprint -> indices of words with that fingerprint.
    let vocabIndex: [UInt64: [Int32]]
    let vocabWords: [[UInt8]]
    let kind: FeatureColumnSpec.Kind
    let isCombo: Bool

    init(spec: FeatureColumnSpec, slots: [Int]) {
        self.spec = spec
        self.slots = slots
        self.kind = spec.kind
        if case .combo = spec.kind { isCombo = true } else { isCombo = false }
        if case .vocabulary(let words) = spec.kind {
            var idx: [UInt64: [Int32]] = [:]
            vocabWords = words.map { Array($0.utf8) }
            for (i, w) in vocabWords.enumerated() {
                idx[w.withUnsafeBytes { FarmHash.fingerprint64($0) }, default: []].append(Int32(i))
            }
            vocabIndex = idx
        } else {
            vocabIndex = [:]
            vocabWords = []
        }
    }

    static let keyValueModulus: UInt64 = (1 << 63) - 1

    func encode(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ col: inout EncodedBatch.Column) {
        var allBroadcast = true
        for s in slots where !batch.slotBroadcast[s] { allBroadcast = false }
        let n = batch.itemCount
        for item in 0..<n {
            if allBroadcast && item > 0 {
                let a = Int(col.offsets[0]), b = Int(col.offsets[1])
                for k in a..<b { col.append(id: col.ids[k], weight: col.weights[k]) }
            } else {
                encodeItem(batch, raw, item, &col)
            }
            col.endItem()
        }
    }

    @inline(__always)
    func entryBytes(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ e: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[Int(batch.bounds[e])..<Int(batch.bounds[e + 1])])
    }

    /// Fingerprint64 of an entry's text (bare numbers rendered shortest round-trip).
    @inline(__always)
    func fingerprint(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ e: Int) -> UInt64? {
        if batch.isBareNumber(e) {
            var text: [UInt8] = []  // rare path: a float FG output read by a hashed column
            FGMath.appendShortest(batch.numbers[e], to: &text)
            return text.withUnsafeBytes { FarmHash.fingerprint64($0) }
        }
        let b = entryBytes(batch, raw, e)
        return b.isEmpty ? nil : FarmHash.fingerprint64(b)
    }

    @inline(__always)
    func number(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ e: Int) -> Double? {
        let x = batch.numbers[e]
        if !x.isNaN { return x }
        guard let d = FGMath.parseDouble(entryBytes(batch, raw, e)), !d.isNaN else { return nil }
        return d
    }

    @inline(__always)
    func integer(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ e: Int) -> Int64? {
        let x = batch.numbers[e]
        if !x.isNaN { return x.rounded() == x && abs(x) < 9e18 ? Int64(x) : nil }
        let b = entryBytes(batch, raw, e)
        if let i = FGMath.parseInt(b) { return i }
        guard let d = FGMath.parseDouble(b), d.rounded() == d, abs(d) < 9e18 else { return nil }
        return Int64(d)
    }

    func encodeItem(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ item: Int, _ col: inout EncodedBatch.Column) {
        let r = batch.entryRange(slot: slots[0], item: item)
        // Optional second input = weights aligned with the ids (TagFeature with a weight field).
        var weightRange: Range<Int>? = nil
        if slots.count == 2, !isCombo {
            let w = batch.entryRange(slot: slots[1], item: item)
            if w.count == r.count { weightRange = w }
        }
        @inline(__always) func weight(_ k: Int, _ e: Int) -> Float {
            if let w = weightRange, let x = number(batch, raw, w.lowerBound + k) { return Float(x) }
            return batch.weights[e]
        }
        switch kind {
        case .hashed(let size):
            guard size > 0 else { return }
            for (k, e) in r.enumerated() {
                guard let h = fingerprint(batch, raw, e) else { continue }
                col.append(id: Int64(h % UInt64(size)), weight: weight(k, e))
            }
        case .keyValue:
            for (k, e) in r.enumerated() {
                guard let h = fingerprint(batch, raw, e) else { continue }
                col.append(id: Int64(h % Self.keyValueModulus), weight: weight(k, e))
            }
        case .identity(let size):
            for (k, e) in r.enumerated() {
                guard let v = integer(batch, raw, e), v >= 0, v < Int64(size) else { continue }
                col.append(id: v, weight: weight(k, e))
            }
        case .boundaries(let b):
            for (k, e) in r.enumerated() {
                guard let x = number(batch, raw, e) else { continue }
                col.append(id: Int64(CompiledFeature.bucket(x, b)), weight: weight(k, e))
            }
        case .raw(let dim):
            var d = 0
            for e in r where d < dim {
                guard let x = number(batch, raw, e) else { continue }
                col.append(id: Int64(d), weight: Float(x))
                d += 1
            }
        case .vocabulary:
            for (k, e) in r.enumerated() {
                guard !batch.isBareNumber(e), let h = fingerprint(batch, raw, e) else { continue }
                let b = entryBytes(batch, raw, e)
                if let c = vocabIndex[h]?.first(where: { vocabWords[Int($0)].elementsEqual(b) }) {
                    col.append(id: Int64(c), weight: weight(k, e))
                } else if let row = spec.unknownVocabularyRow, !b.isEmpty {
                    col.append(id: Int64(row), weight: weight(k, e))
                }
            }
        case .combo(let size):
            encodeCrossed(batch, raw, item, size, &col)
        }
    }


    /// TensorFlow's hashed cross over the Cartesian product of the inputs' ids (last input fastest).
    func encodeCrossed(_ batch: FeatureBatch, _ raw: UnsafeRawBufferPointer, _ item: Int, _ size: Int,
                       _ col: inout EncodedBatch.Column) {
        guard size > 0 else { return }
        let m = slots.count
        var total = 0
        for s in slots {
            let c = batch.entryRange(slot: s, item: item).count
            if c == 0 { return }
            total += c
        }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: total) { fps in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * m + 1) { idx in
                // fps: fingerprints of all inputs' entries; idx[0...m]: start of input k in fps; idx[m+1+k]: odometer
                var p = 0
                for (k, s) in slots.enumerated() {
                    idx[k] = p
                    for e in batch.entryRange(slot: s, item: item) {
                        fps[p] = fingerprint(batch, raw, e) ?? FarmHash.fingerprint64(UnsafeRawBufferPointer(start: nil, count: 0))
                        p += 1
                    }
                }
                idx[m] = p
                for k in 0..<m { idx[m + 1 + k] = idx[k] }
                var produced = 0
                while produced < ColumnEncoder.maxCrossedIds {
                    var h = FarmHash.crossSeed
                    for k in 0..<m { h = FarmHash.fingerprintCat64(h, fps[idx[m + 1 + k]]) }
                    col.append(id: Int64(h % UInt64(size)))
                    produced += 1
                    var k = m - 1
                    while k >= 0 {
                        idx[m + 1 + k] += 1
                        if idx[m + 1 + k] < idx[k + 1] { break }
                        idx[m + 1 + k] = idx[k]
                        k -= 1
                    }
                    if k < 0 { break }
                }
            }
        }
    }
}
