extension FGPlan {
    /// Sequence sub-feature (fg.md section 3): the user's sequence `sequence_column` split on
    /// `sequence_delim`, truncated to `sequence_length`; the sub-feature is applied per element.
    /// A sub-feature reads its own per-element values from user feature `<sequence_name>__<field>`
    /// (or `<sequence_column>__<field>`) when present; the field named by `sequence_pk` (or
    /// `item_id`) reads the sequence elements themselves; otherwise each element takes the
    /// sub-feature's `default_value` (no output without one). A sub-feature's own list is cut to the
    /// sequence's length; shorter lists are padded with the default (raw: `default_value` or 0).
    func evaluateSequence(_ f: CompiledFeature, _ request: FGRequest, _ batch: inout FeatureBatch) {
        guard let seq = f.feature.sequence, let field = f.inputs.first?.field else { return }
        let delim = f.sequenceDelimiter
        let limit = min(seq.length, limits.maxOutputsPerFeature)
        var primary = request.userFeatures[seq.column]
        if primary == nil, let d = seq.defaultValue { primary = .string(d) }
        var source: FeatureValue?
        for key in f.sequenceKeys where source == nil { source = request.userFeatures[key] }
        if source == nil, field == seq.primaryKey || field == seq.column || field == "item_id" { source = primary }
        // The sequence's own length (the primary elements) bounds every sub-feature.
        var n = limit
        if let primary {
            n = 0
            FGSequenceElements.forEach(primary, delimiter: delim, limit: limit) { _ in n += 1 }
        }
        var emitted = 0
        if let source {
            FGSequenceElements.forEach(source, delimiter: delim, limit: n) { atom in
                emitSequenceElement(f, atom, &batch)
                emitted += 1
            }
        }
        // Raw sub-features stay aligned with the sequence: missing elements take the default;
        // id sub-features do when they have a default_value.
        if primary != nil, f.defaultBytes != nil || f.type == .raw {
            while emitted < n {
                emitSequenceElement(f, nil, &batch)
                emitted += 1
            }
        }
    }

    func emitSequenceElement(_ f: CompiledFeature, _ atom: FGAtom?, _ batch: inout FeatureBatch) {
        if f.feature.type == .raw {
            f.emitFloat(atom.flatMap { FGAtoms.number($0) } ?? f.rawDefault, &batch)
            return
        }
        let mark = batch.bytes.count
        batch.bytes.append(contentsOf: f.prefix)
        let valueStart = batch.bytes.count
        if let atom { FGAtoms.append(atom, to: &batch.bytes) }
        if batch.bytes.count == valueStart || f.isInvalid(batch.bytes, from: valueStart) {
            batch.truncateBytes(to: mark)
            guard let d = f.defaultBytes else { return }
            batch.bytes.append(contentsOf: f.prefix)
            batch.bytes.append(contentsOf: d)
        }
        batch.closeEntry()
    }
}

/// Splitting of sequence values on a delimiter, keeping empty elements for alignment (internal).
enum FGSequenceElements {
    static func forEach(_ value: FeatureValue, delimiter: [UInt8], limit: Int, _ body: (FGAtom?) -> Void) {
        var remaining = limit
        switch value {
        case .string(let s):
            split(s, delimiter, &remaining, body)
        case .strings(let list):
            for s in list where remaining > 0 {
                remaining -= 1
                if s.isEmpty { body(nil); continue }
                var c = s
                c.withUTF8 { body(.bytes(UnsafeRawBufferPointer($0))) }
            }
        default:
            FGAtoms.forEach(value, limit: limit) { atom in body(atom); return true }
        }
    }

    static func split(_ s: String, _ delimiter: [UInt8], _ remaining: inout Int, _ body: (FGAtom?) -> Void) {
        guard !s.isEmpty else { return }
        var c = s
        c.withUTF8 { p in
            let d = delimiter.count
            var start = 0
            var i = 0
            while i <= p.count && remaining > 0 {
                let atEnd = i == p.count
                var match = false
                if !atEnd, d > 0, i + d <= p.count {
                    match = true
                    for k in 0..<d where p[i + k] != delimiter[k] { match = false; break }
                }
                if atEnd || match {
                    remaining -= 1
                    if i > start { body(.bytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[start..<i]))) }
                    else { body(nil) }
                    i += atEnd ? 1 : d
                    start = i
                } else {
                    i += 1
                }
            }
        }
    }
}
