extension FGPlan {
    // MARK: id_feature

    func evaluateId(_ f: CompiledFeature, _ value: FeatureValue?, _ batch: inout FeatureBatch) {
        var produced = 0
        let prefix = f.prefix
        let checkInvalid = !f.invalid.isEmpty
        let outputLimit = f.outputLimit
        if let value {
            FGAtoms.forEach(value, limit: limits.maxValuesPerInput) { atom in
                guard produced < outputLimit else { return false }
                let mark = batch.bytes.count
                prefix.withUnsafeBytes { batch.bytes.append(contentsOf: $0) }
                let valueStart = batch.bytes.count
                FGAtoms.append(atom, to: &batch.bytes)
                if batch.bytes.count == valueStart || (checkInvalid && f.isInvalid(batch.bytes, from: valueStart)) {
                    batch.truncateBytes(to: mark)
                    return true
                }
                batch.closeEntry()
                produced += 1
                return true
            }
        }
        if produced == 0, let d = f.defaultBytes {
            batch.bytes.append(contentsOf: prefix)
            batch.bytes.append(contentsOf: d)
            batch.closeEntry()
        }
    }

    // MARK: raw_feature

    func evaluateRaw(_ f: CompiledFeature, _ value: FeatureValue?, _ batch: inout FeatureBatch) {
        let dim = f.valueDimension
        var produced = 0
        if let value {
            FGAtoms.forEach(value, limit: dim) { atom in
                let x = FGAtoms.number(atom) ?? f.rawDefault
                f.emitFloat(x.isFinite ? x : f.rawDefault, &batch)
                produced += 1
                return true
            }
        }
        while produced < dim {
            f.emitFloat(f.rawDefault, &batch)
            produced += 1
        }
    }

    // MARK: combo_feature

    func evaluateCombo(_ f: CompiledFeature, _ in0: ResolvedInput, _ in1: ResolvedInput, _ in2: ResolvedInput,
                       _ request: FGRequest, _ item: Int, _ batch: inout FeatureBatch) {
        // Phase 1: every input's value texts into scratch.bytes (ranges in scratch.bounds).
        batch.scratch.bytes.removeAll(keepingCapacity: true)
        batch.scratch.bounds.removeAll(keepingCapacity: true)
        batch.scratch.inputStarts.removeAll(keepingCapacity: true)
        batch.scratch.bounds.append(0)
        let m = f.inputCount
        for index in 0..<m {
            batch.scratch.inputStarts.append(batch.scratch.bounds.count - 1)
            let resolved: ResolvedInput
            switch index {
            case 0: resolved = in0
            case 1: resolved = in1
            case 2: resolved = in2
            default: resolved = ResolvedInput(f.inputs[index], request)
            }
            guard let v = resolved.value(item) else { return }
            FGAtoms.forEach(v, limit: limits.maxValuesPerInput) { atom in
                FGAtoms.append(atom, to: &batch.scratch.bytes)
                batch.scratch.bounds.append(Int32(truncatingIfNeeded: batch.scratch.bytes.count))
                return true
            }
            if batch.scratch.bounds.count - 1 == batch.scratch.inputStarts[index] { return }  // no values: no combination
        }
        batch.scratch.inputStarts.append(batch.scratch.bounds.count - 1)
        batch.scratch.odometer.removeAll(keepingCapacity: true)
        for k in 0..<m { batch.scratch.odometer.append(batch.scratch.inputStarts[k]) }
        // Phase 2: the Cartesian product, last input fastest (byte copies: no slices, no closures).
        let prefix = f.prefix
        var produced = 0
        while produced < f.outputLimit {
            batch.bytes.append(contentsOf: prefix)
            for k in 0..<m {
                if k > 0 { batch.bytes.append(UInt8(ascii: "_")) }
                let e = batch.scratch.odometer[k]
                for j in Int(batch.scratch.bounds[e])..<Int(batch.scratch.bounds[e + 1]) {
                    batch.bytes.append(batch.scratch.bytes[j])
                }
            }
            batch.closeEntry()
            produced += 1
            var k = m - 1
            while k >= 0 {
                batch.scratch.odometer[k] += 1
                if batch.scratch.odometer[k] < batch.scratch.inputStarts[k + 1] { break }
                batch.scratch.odometer[k] = batch.scratch.inputStarts[k]
                k -= 1
            }
            if k < 0 { break }
        }
    }

    // MARK: lookup_feature

    /// Parse the `k:v` entries of a map value into the scratch hash table.
    func buildLookupMap(_ value: FeatureValue?, _ s: inout FGScratch) {
        s.mapBytes.removeAll(keepingCapacity: true)
        s.mapKeyStart.removeAll(keepingCapacity: true)
        s.mapKeyEnd.removeAll(keepingCapacity: true)
        s.mapValEnd.removeAll(keepingCapacity: true)
        s.mapHash.removeAll(keepingCapacity: true)
        guard let value else { s.mapTable.removeAll(keepingCapacity: true); return }
        FGAtoms.forEach(value, limit: limits.maxValuesPerInput) { atom in
            let start = s.mapBytes.count
            FGAtoms.append(atom, to: &s.mapBytes)
            var colon = -1
            for k in start..<s.mapBytes.count where s.mapBytes[k] == UInt8(ascii: ":") { colon = k; break }
            guard colon > start else { s.mapBytes.removeSubrange(start...); return true }
            s.mapKeyStart.append(Int32(truncatingIfNeeded: start))
            s.mapKeyEnd.append(Int32(truncatingIfNeeded: colon))
            s.mapValEnd.append(Int32(truncatingIfNeeded: s.mapBytes.count))
            let h = s.mapBytes.withUnsafeBytes { FarmHash.fingerprint64(UnsafeRawBufferPointer(rebasing: $0[start..<colon])) }
            s.mapHash.append(h)
            return true
        }
        var size = 8
        while size < s.mapHash.count * 2 { size <<= 1 }
        s.mapTable.removeAll(keepingCapacity: true)
        s.mapTable.append(contentsOf: repeatElement(-1, count: size))
        for e in 0..<s.mapHash.count {
            var slot = Int(truncatingIfNeeded: s.mapHash[e]) & (size - 1)
            while true {
                let cur = Int(s.mapTable[slot])
                if cur < 0 { s.mapTable[slot] = Int32(e); break }
                if s.mapHash[cur] == s.mapHash[e] && sameKey(s, cur, e) { s.mapTable[slot] = Int32(e); break }  // later wins
                slot = (slot + 1) & (size - 1)
            }
        }
    }

    @inline(__always)
    func sameKey(_ s: FGScratch, _ a: Int, _ b: Int) -> Bool {
        let a0 = Int(s.mapKeyStart[a]), a1 = Int(s.mapKeyEnd[a]), b0 = Int(s.mapKeyStart[b]), b1 = Int(s.mapKeyEnd[b])
        guard a1 - a0 == b1 - b0 else { return false }
        for k in 0..<(a1 - a0) where s.mapBytes[a0 + k] != s.mapBytes[b0 + k] { return false }
        return true
    }

    /// Index of the map entry whose key equals `bytes[start..<end]`, or -1.
    @inline(__always)
    func lookup(_ s: FGScratch, _ key: UnsafeRawBufferPointer) -> Int {
        guard !s.mapTable.isEmpty else { return -1 }
        let h = FarmHash.fingerprint64(key)
        let size = s.mapTable.count
        var slot = Int(truncatingIfNeeded: h) & (size - 1)
        while true {
            let cur = Int(s.mapTable[slot])
            if cur < 0 { return -1 }
            if s.mapHash[cur] == h {
                let k0 = Int(s.mapKeyStart[cur]), k1 = Int(s.mapKeyEnd[cur])
                if k1 - k0 == key.count {
                    var same = true
                    for k in 0..<key.count where s.mapBytes[k0 + k] != key[k] { same = false; break }
                    if same { return cur }
                }
            }
            slot = (slot + 1) & (size - 1)
        }
    }

    func evaluateLookup(_ f: CompiledFeature, map: ResolvedInput, key: ResolvedInput, item: Int,
                        _ batch: inout FeatureBatch) {
        if !map.isBroadcast || item == 0 { buildLookupMap(map.value(item), &batch.scratch) }
        let discrete = f.needDiscrete
        let weighted = f.outputsWeights
        var acc = 0.0, hits = 0, lo = Double.infinity, hi = -Double.infinity
        var produced = 0
        if let keyValue = key.value(item) {
            // Keys are formatted into scratch.bytes first.
            batch.scratch.bytes.removeAll(keepingCapacity: true)
            batch.scratch.bounds.removeAll(keepingCapacity: true)
            batch.scratch.bounds.append(0)
            FGAtoms.forEach(keyValue, limit: f.valueLimit) { atom in
                FGAtoms.append(atom, to: &batch.scratch.bytes)
                batch.scratch.bounds.append(Int32(truncatingIfNeeded: batch.scratch.bytes.count))
                return true
            }
            for k in 0..<(batch.scratch.bounds.count - 1) where produced < f.outputLimit {
                let k0 = Int(batch.scratch.bounds[k]), k1 = Int(batch.scratch.bounds[k + 1])
                if k1 == k0 { continue }
                let e = batch.scratch.bytes.withUnsafeBytes { lookup(batch.scratch, UnsafeRawBufferPointer(rebasing: $0[k0..<k1])) }
                var v0 = 0, v1 = 0
                var useDefault = false
                if e >= 0 {
                    v0 = Int(batch.scratch.mapKeyEnd[e]) + 1
                    v1 = Int(batch.scratch.mapValEnd[e])
                } else if f.lookupDefault != nil {
                    useDefault = true
                } else {
                    continue
                }
                if discrete {
                    let mark = batch.bytes.count
                    batch.bytes.append(contentsOf: f.prefix)
                    batch.bytes.append(contentsOf: batch.scratch.bytes[k0..<k1])
                    if weighted {
                        let w: Float? = useDefault
                            ? f.lookupDefault?.withUnsafeBytes { FGMath.parseFloat($0) }
                            : batch.scratch.mapBytes.withUnsafeBytes { FGMath.parseFloat(UnsafeRawBufferPointer(rebasing: $0[v0..<v1])) }
                        guard let w, w.isFinite else { batch.truncateBytes(to: mark); continue }
                        batch.closeEntry(weight: w)
                    } else {
                        if f.needKey { batch.bytes.append(UInt8(ascii: "_")) } else { batch.truncateBytes(to: mark + f.prefix.count) }
                        if useDefault, let d = f.lookupDefault { batch.bytes.append(contentsOf: d) }
                        else { batch.bytes.append(contentsOf: batch.scratch.mapBytes[v0..<v1]) }
                        batch.closeEntry()
                    }
                    produced += 1
                } else {
                    let x: Double? = useDefault
                        ? f.lookupDefault?.withUnsafeBytes { FGMath.parseDouble($0) }
                        : batch.scratch.mapBytes.withUnsafeBytes { FGMath.parseDouble(UnsafeRawBufferPointer(rebasing: $0[v0..<v1])) }
                    guard let x, !x.isNaN else { continue }
                    acc += x
                    hits += 1
                    lo = Swift.min(lo, x)
                    hi = Swift.max(hi, x)
                }
            }
        }
        if !discrete {
            var y: Double
            switch f.lookupCombiner {
            case .sum: y = acc
            case .mean: y = hits > 0 ? acc / Double(hits) : 0
            case .min: y = hits > 0 ? lo : 0
            case .max: y = hits > 0 ? hi : 0
            case .count: y = Double(hits)
            }
            if hits == 0 { y = 0 }
            f.emitFloat(y, &batch)
        }
    }

    // MARK: match_feature

    /// Parse `cat^k:v,k:v|cat2^k:v` into (category, key, value) ranges.
    func buildMatchMap(_ value: FeatureValue?, _ s: inout FGScratch) {
        s.matchBytes.removeAll(keepingCapacity: true)
        s.matchRanges.removeAll(keepingCapacity: true)
        guard let value else { return }
        FGAtoms.forEach(value, limit: limits.maxValuesPerInput) { atom in
            let start = s.matchBytes.count
            FGAtoms.append(atom, to: &s.matchBytes)
            let end = s.matchBytes.count
            var i = start
            while i < end {  // one category per '|'-separated part
                var j = i
                while j < end && s.matchBytes[j] != UInt8(ascii: "|") { j += 1 }
                var caret = -1
                for k in i..<j where s.matchBytes[k] == UInt8(ascii: "^") { caret = k; break }
                if caret > i {
                    var p = caret + 1
                    while p < j {
                        var q = p
                        while q < j && s.matchBytes[q] != UInt8(ascii: ",") { q += 1 }
                        var colon = -1
                        for k in p..<q where s.matchBytes[k] == UInt8(ascii: ":") { colon = k; break }
                        if colon > p && s.matchRanges.count < 6 * limits.maxValuesPerInput {
                            s.matchRanges.append(Int32(truncatingIfNeeded: i))
                            s.matchRanges.append(Int32(truncatingIfNeeded: caret))
                            s.matchRanges.append(Int32(truncatingIfNeeded: p))
                            s.matchRanges.append(Int32(truncatingIfNeeded: colon))
                            s.matchRanges.append(Int32(truncatingIfNeeded: colon + 1))
                            s.matchRanges.append(Int32(truncatingIfNeeded: q))
                        }
                        p = q + 1
                    }
                }
                i = j + 1
            }
            return true
        }
    }

    @inline(__always)
    func equalRange(_ a: [UInt8], _ a0: Int, _ a1: Int, _ b: [UInt8], _ b0: Int, _ b1: Int) -> Bool {
        guard a1 - a0 == b1 - b0 else { return false }
        for k in 0..<(a1 - a0) where a[a0 + k] != b[b0 + k] { return false }
        return true
    }

    func evaluateMatch(_ f: CompiledFeature, user: ResolvedInput, key: ResolvedInput, category: ResolvedInput,
                       item: Int, _ batch: inout FeatureBatch) {
        if !user.isBroadcast || item == 0 { buildMatchMap(user.value(item), &batch.scratch) }
        guard !batch.scratch.matchRanges.isEmpty, let keyValue = key.value(item) else {
            if !f.needDiscrete { f.emitFloat(f.rawDefault, &batch) }
            return
        }
        // scratch.bytes: [category][keys...]; bounds[0..<1] is the category (empty for ALL)
        batch.scratch.bytes.removeAll(keepingCapacity: true)
        batch.scratch.bounds.removeAll(keepingCapacity: true)
        batch.scratch.bounds.append(0)
        if f.hasMatchCategory {
            guard let c = category.value(item) else {
                if !f.needDiscrete { f.emitFloat(f.rawDefault, &batch) }
                return
            }
            FGAtoms.forEach(c, limit: 1) { atom in FGAtoms.append(atom, to: &batch.scratch.bytes); return false }
        }
        batch.scratch.bounds.append(Int32(truncatingIfNeeded: batch.scratch.bytes.count))
        let keyLimit = f.matchType == .hit ? 1 : f.valueLimit
        FGAtoms.forEach(keyValue, limit: keyLimit) { atom in
            FGAtoms.append(atom, to: &batch.scratch.bytes)
            batch.scratch.bounds.append(Int32(truncatingIfNeeded: batch.scratch.bytes.count))
            return true
        }
        let c0 = Int(batch.scratch.bounds[0]), c1 = Int(batch.scratch.bounds[1])
        let pairs = batch.scratch.matchRanges.count / 6
        var produced = 0
        var floats = 0
        outer: for k in 1..<(batch.scratch.bounds.count - 1) {
            let k0 = Int(batch.scratch.bounds[k]), k1 = Int(batch.scratch.bounds[k + 1])
            for p in 0..<pairs {
                guard produced < f.outputLimit else { break outer }
                let r = p * 6
                let mr = batch.scratch.matchRanges
                let pc0 = Int(mr[r]), pc1 = Int(mr[r + 1]), pk0 = Int(mr[r + 2]), pk1 = Int(mr[r + 3])
                let pv0 = Int(mr[r + 4]), pv1 = Int(mr[r + 5])
                if f.hasMatchCategory,
                   !equalRange(batch.scratch.matchBytes, pc0, pc1, batch.scratch.bytes, c0, c1) { continue }
                guard equalRange(batch.scratch.matchBytes, pk0, pk1, batch.scratch.bytes, k0, k1) else { continue }
                if f.needDiscrete {
                    let mark = batch.bytes.count
                    batch.bytes.append(contentsOf: f.prefix)
                    batch.bytes.append(contentsOf: batch.scratch.matchBytes[pc0..<pc1])
                    batch.bytes.append(UInt8(ascii: "_"))
                    batch.bytes.append(contentsOf: batch.scratch.matchBytes[pk0..<pk1])
                    if f.outputsWeights {
                        let w = batch.scratch.matchBytes.withUnsafeBytes { FGMath.parseFloat(UnsafeRawBufferPointer(rebasing: $0[pv0..<pv1])) }
                        guard let w, w.isFinite else { batch.truncateBytes(to: mark); continue }
                        batch.closeEntry(weight: w)
                    } else {
                        batch.bytes.append(UInt8(ascii: "_"))
                        batch.bytes.append(contentsOf: batch.scratch.matchBytes[pv0..<pv1])
                        batch.closeEntry()
                    }
                } else {
                    let x = batch.scratch.matchBytes.withUnsafeBytes { FGMath.parseDouble(UnsafeRawBufferPointer(rebasing: $0[pv0..<pv1])) }
                    f.emitFloat(x ?? f.rawDefault, &batch)
                    floats += 1
                }
                produced += 1
                if f.matchType == .hit { break outer }
            }
        }
        if !f.needDiscrete && floats == 0 { f.emitFloat(f.rawDefault, &batch) }
    }

    // MARK: overlap_feature

    func evaluateOverlap(_ f: CompiledFeature, query: FeatureValue?, title: FeatureValue?, _ batch: inout FeatureBatch) {
        guard let query, let title, let method = f.feature.overlapMethod else { return }
        // Words: query words then title words, as ranges of scratch.bytes.
        batch.scratch.bytes.removeAll(keepingCapacity: true)
        batch.scratch.bounds.removeAll(keepingCapacity: true)
        batch.scratch.bounds.append(0)
        FGAtoms.forEach(query, limit: f.valueLimit, extraSeparator: UInt8(ascii: ",")) { atom in
            FGAtoms.append(atom, to: &batch.scratch.bytes)
            batch.scratch.bounds.append(Int32(truncatingIfNeeded: batch.scratch.bytes.count))
            return true
        }
        let nq = batch.scratch.bounds.count - 1
        FGAtoms.forEach(title, limit: f.valueLimit, extraSeparator: UInt8(ascii: ",")) { atom in
            FGAtoms.append(atom, to: &batch.scratch.bytes)
            batch.scratch.bounds.append(Int32(truncatingIfNeeded: batch.scratch.bytes.count))
            return true
        }
        let nt = batch.scratch.bounds.count - 1 - nq
        func sameWord(_ a: Int, _ b: Int) -> Bool {
            let a0 = Int(batch.scratch.bounds[a]), a1 = Int(batch.scratch.bounds[a + 1])
            let b0 = Int(batch.scratch.bounds[b]), b1 = Int(batch.scratch.bounds[b + 1])
            guard a1 - a0 == b1 - b0 else { return false }
            for k in 0..<(a1 - a0) where batch.scratch.bytes[a0 + k] != batch.scratch.bytes[b0 + k] { return false }
            return true
        }
        func inTitle(_ q: Int) -> Bool {
            for t in nq..<(nq + nt) where sameWord(q, t) { return true }
            return false
        }
        func seenBefore(_ q: Int) -> Bool {
            for p in 0..<q where sameWord(q, p) { return true }
            return false
        }
        func appendWord(_ q: Int) {
            for j in Int(batch.scratch.bounds[q])..<Int(batch.scratch.bounds[q + 1]) { batch.bytes.append(batch.scratch.bytes[j]) }
        }
        func emitNumber(_ v: Int) {
            batch.bytes.append(contentsOf: f.prefix)
            FGMath.appendInt(Int64(v), to: &batch.bytes)
            batch.closeEntry()
        }
        var common = 0
        for q in 0..<nq where inTitle(q) { common += 1 }
        switch method {
        case .isEqual:
            var equal = nq == nt
            if equal {
                for q in 0..<nq where !sameWord(q, nq + q) { equal = false; break }
            }
            emitNumber(equal ? 1 : 0)
        case .isContain:
            emitNumber(nq > 0 && common == nq ? 1 : 0)
        case .queryCommonRatio:
            if nq > 0 { emitNumber(10 * common / nq) }
        case .titleCommonRatio:
            if nt > 0 { emitNumber(100 * common / nt) }
        case .commonWord, .diffWord:
            let wantCommon = method == .commonWord
            let mark = batch.bytes.count
            batch.bytes.append(contentsOf: f.prefix)
            var any = false
            for q in 0..<nq where inTitle(q) == wantCommon && !seenBefore(q) {
                if any { batch.bytes.append(contentsOf: f.separator) }
                appendWord(q)
                any = true
            }
            if any { batch.closeEntry() } else { batch.truncateBytes(to: mark) }
        case .commonWordDivided, .diffWordDivided:
            let wantCommon = method == .commonWordDivided
            for q in 0..<nq where inTitle(q) == wantCommon && !seenBefore(q) {
                batch.bytes.append(contentsOf: f.prefix)
                appendWord(q)
                batch.closeEntry()
            }
        }
    }
}
