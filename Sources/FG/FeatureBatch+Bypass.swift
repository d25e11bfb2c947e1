extension FeatureBatch {
    /// Bypass mode (fg.md section 5): load the request's features by input field name, one slot per
    /// schema field, split like the same field of a training sample. User features are broadcast;
    /// item features come per item (or one value broadcast); `item_id` defaults to the item id.
    /// Integers become their decimal text, floats their shortest round-trip text, booleans 1/0.
    public mutating func loadBypass(_ request: FGRequest, schema: SampleSchema, limits: FGLimits = FGLimits()) throws(FGError) {
        try request.validate(limits: limits)
        let n = request.itemIds.count
        begin(names: schema.names, itemCount: n)
        for field in schema.fields {
            let input: ResolvedInput
            if let v = request.userFeatures[field.name] {
                input = ResolvedInput(one: v)
            } else {
                input = ResolvedInput(FGInput(side: .item, field: field.name), request)
            }
            let broadcast = input.isBroadcast
            beginSlot(broadcast: broadcast, weighted: field.kvSeparator != nil)
            let count = broadcast ? 1 : n
            for item in 0..<count {
                if let v = input.value(item), !v.isEmptyList {
                    try appendBypassValue(v, field, limit: limits.maxValuesPerInput)
                } else if let d = field.defaultValue, !d.isEmpty {
                    try appendBypassValue(.string(d), field, limit: limits.maxValuesPerInput)
                }
                endItem()
            }
        }
    }

    mutating func appendBypassValue(_ value: FeatureValue, _ field: SampleField, limit: Int) throws(FGError) {
        func text(_ s: String) throws(FGError) {
            var c = s
            var failure: FGError?
            c.withUTF8 { p in
                do throws(FGError) {
                    try appendField(UnsafeRawBufferPointer(p), field, line: 0)
                } catch {
                    failure = error
                }
            }
            if let failure {
                if case .invalidSample(_, let f, let r) = failure { throw .invalidRequest(field: f, reason: r) }
                throw failure
            }
        }
        func int(_ i: Int64) {
            FGMath.appendInt(i, to: &bytes)
            closeEntry(number: Double(i))
        }
        func float(_ d: Double) {
            guard !d.isNaN else { return }
            FGMath.appendShortest(d, to: &bytes)
            closeEntry(number: d)
        }
        switch value {
        case .string(let s): try text(s)
        case .strings(let list): for s in list.prefix(limit) { try text(s) }
        case .int(let i): int(i)
        case .ints(let list): for i in list.prefix(limit) { int(i) }
        case .float(let d): float(d)
        case .floats(let list): for d in list.prefix(limit) { float(d) }
        case .bool(let b): int(b ? 1 : 0)
        }
        // Cap the values of one field (documented limit): drop the excess of the open item.
        let excess = openItemCount - limit
        if excess > 0 {
            let keep = weights.count - excess
            bytes.removeSubrange(Int(bounds[keep])...)
            bounds.removeSubrange((keep + 1)...)
            weights.removeSubrange(keep...)
            numbers.removeSubrange(keep...)
        }
    }
}

extension FeatureValue {
    /// An empty list: a value the request lists as absent for this item.
    var isEmptyList: Bool {
        switch self {
        case .strings(let v): return v.isEmpty
        case .ints(let v): return v.isEmpty
        case .floats(let v): return v.isEmpty
        default: return false
        }
    }
}
