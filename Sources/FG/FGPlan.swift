/// fg.json compiled into an evaluation plan (immutable, shareable across threads).
/// `evaluate` writes every feature's outputs for every item into a reused ``FeatureBatch``.
public struct FGPlan: Sendable {
    public let config: FGConfig
    public let limits: FGLimits
    /// Output slot names in fg.json order.
    public let outputNames: [String]
    let compiled: [CompiledFeature]
    /// Request feature names the plan reads (fg.json *input* names, sequence columns and their
    /// `<sequence>__<field>` keys); a request feature outside this set is ignored.
    public let requestFieldNames: Set<String>
    /// Request feature names read as numbers (raw_feature inputs).
    public let numericFieldNames: Set<String>

    public init(config: FGConfig, limits: FGLimits = FGLimits()) {
        self.config = config
        self.limits = limits
        self.outputNames = config.outputNames
        self.compiled = config.features.map { CompiledFeature($0, limits: limits) }
        var names = Set<String>()
        for f in compiled {
            for input in f.inputs { names.insert(input.field) }
            names.formUnion(f.sequenceKeys)
            if let seq = f.feature.sequence { names.insert(seq.column) }
        }
        requestFieldNames = names
        numericFieldNames = Set(compiled.filter { $0.type == .raw }.flatMap { $0.inputs.map(\.field) })
    }

    /// A reusable output buffer for this plan.
    public func makeBatch() -> FeatureBatch { FeatureBatch(names: outputNames) }

    /// Run FG on a request: one slot per feature (fg.json order), one value list per item.
    public func evaluate(_ request: FGRequest, into batch: inout FeatureBatch) throws(FGError) {
        try request.validate(limits: limits)
        let n = request.itemIds.count
        batch.begin(names: outputNames, itemCount: n)
        for f in compiled {
            let in0 = f.inputCount > 0 ? ResolvedInput(f.inputs[0], request) : .missing
            let in1 = f.inputCount > 1 ? ResolvedInput(f.inputs[1], request) : .missing
            let in2 = f.inputCount > 2 ? ResolvedInput(f.inputs[2], request) : .missing
            if f.isSequence {
                batch.beginSlot(broadcast: true, weighted: false)
                evaluateSequence(f, request, &batch)
                batch.endItem()
                continue
            }
            var broadcast = in0.isBroadcast && in1.isBroadcast && in2.isBroadcast
            if f.inputCount > 3 {
                for input in f.inputs.dropFirst(3) where !ResolvedInput(input, request).isBroadcast { broadcast = false }
            }
            batch.beginSlot(broadcast: broadcast, weighted: f.outputsWeights)
            let count = broadcast ? min(1, n) : n
            for item in 0..<count {
                switch f.type {
                case .id: evaluateId(f, in0.value(item), &batch)
                case .raw: evaluateRaw(f, in0.value(item), &batch)
                case .combo: evaluateCombo(f, in0, in1, in2, request, item, &batch)
                case .lookup: evaluateLookup(f, map: in0, key: in1, item: item, &batch)
                case .match: evaluateMatch(f, user: in0, key: in1, category: in2, item: item, &batch)
                case .overlap: evaluateOverlap(f, query: in0.value(item), title: in1.value(item), &batch)
                }
                batch.endItem()
            }
            if count == 0 { batch.endItem() }  // an empty broadcast slot still has one (empty) list
        }
    }

    /// Evaluate and render every item as a training-sample line (`\u{02}` / `\u{03}`).
    public func renderSamples(_ request: FGRequest) throws(FGError) -> [String] {
        var batch = makeBatch()
        try evaluate(request, into: &batch)
        return (0..<batch.itemCount).map { batch.renderSample(item: $0) }
    }
}

/// A feature with its byte-level constants precomputed (internal). A class so that the hot loop
/// passes one reference instead of copying (and retaining) every field.
final class CompiledFeature: Sendable {
    let feature: FGFeature
    let inputs: [FGInput]
    let prefix: [UInt8]
    let invalid: [[UInt8]]
    let defaultBytes: [UInt8]?
    let rawDefault: Double
    let lookupDefault: [UInt8]?
    let separator: [UInt8]
    /// Values taken from one input (prune_to and the request limit).
    let valueLimit: Int
    let outputLimit: Int
    /// Request keys of a sequence sub-feature's own value list (`<sequence>__<field>`).
    let sequenceKeys: [String]
    let type: FGFeatureType
    let isSequence: Bool
    let inputCount: Int
    let outputsWeights: Bool
    let normalizer: FGNormalizer
    let bucketizeBoundaries: [Double]?
    let needDiscrete: Bool
    let needKey: Bool
    let lookupCombiner: FGLookupCombiner
    let hasMatchCategory: Bool
    let matchType: FGMatchType
    let valueDimension: Int
    let sequenceDelimiter: [UInt8]

    init(_ f: FGFeature, limits: FGLimits) {
        feature = f
        var ins = f.inputs
        if let c = f.matchCategory { ins.append(c) }
        inputs = ins
        prefix = Array(f.prefix.utf8)
        invalid = f.invalidValues.map { Array($0.utf8) }
        defaultBytes = f.defaultValue.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        rawDefault = f.defaultValue.flatMap { Double($0) }.flatMap { $0.isNaN ? nil : $0 } ?? 0
        lookupDefault = f.defaultLookupValue.map { Array($0.utf8) }
        separator = Array(f.separator.utf8)
        valueLimit = min(f.pruneTo ?? Int.max, limits.maxValuesPerInput)
        outputLimit = min(f.pruneTo ?? Int.max, limits.maxOutputsPerFeature)
        type = f.type
        isSequence = f.sequence != nil
        inputCount = ins.count
        outputsWeights = f.outputsWeights
        normalizer = f.normalizer
        bucketizeBoundaries = f.bucketizeBoundaries
        needDiscrete = f.needDiscrete
        needKey = f.needKey
        lookupCombiner = f.lookupCombiner
        hasMatchCategory = f.matchCategory != nil
        matchType = f.matchType
        valueDimension = f.valueDimension
        sequenceDelimiter = Array((f.sequence?.delimiter ?? ";").utf8)
        if let seq = f.sequence, let field = f.inputs.first?.field {
            sequenceKeys = [seq.name + "__" + field, seq.column + "__" + field]
        } else {
            sequenceKeys = []
        }
    }

    @inline(__always)
    func isInvalid(_ out: [UInt8], from start: Int) -> Bool {
        if invalid.isEmpty { return false }
        let n = out.count - start
        for v in invalid where v.count == n {
            var same = true
            for k in 0..<n where out[start + k] != v[k] { same = false; break }
            if same { return true }
        }
        return false
    }

    /// Bucket `#{b : b <= x}`.
    @inline(__always)
    static func bucket(_ x: Double, _ boundaries: [Double]) -> Int {
        var lo = 0, hi = boundaries.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if boundaries[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Emit a float output: normalized, then bucketized (bucket id entry) or a bare number
    /// (a non-finite result becomes the feature's default).
    @inline(__always)
    func emitFloat(_ x: Double, _ batch: inout FeatureBatch) {
        let y = normalizer.apply(x)
        if let b = bucketizeBoundaries {
            let k = CompiledFeature.bucket(y, b)
            FGMath.appendInt(Int64(k), to: &batch.bytes)
            batch.closeEntry(number: Double(k))
        } else {
            batch.appendNumber(y.isFinite ? y : rawDefault)
        }
    }
}
