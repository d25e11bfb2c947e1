import FG
import Foundation
import Inference
import NIOPosix
import Synchronization

/// How request features reach the model columns.
public enum FeatureMode: Sendable {
    /// fg.json: FG evaluates expressions; columns read FG outputs.
    case fg(FGPlan)
    /// No fg.json: request features feed input fields by name (fg.md section 5).
    case bypass(SampleSchema)

    /// Request feature names the model reads (bypass mode: its input fields).
    var readFieldNames: Set<String> {
        switch self {
        case .fg(let plan): return plan.requestFieldNames
        case .bypass(let schema): return Set(schema.names)
        }
    }

    var slotNames: [String] {
        switch self {
        case .fg(let plan): return plan.outputNames
        case .bypass(let schema): return schema.names
        }
    }
}

/// Scores predict requests against the live parameter store: request -> FG -> columns ->
/// DeepFM forward. Large batches run on a dedicated thread pool, small ones inline.
public final class ModelScorer: PredictHandling {
    public let store: ParameterStore
    let forward: DeepFMPredictor
    let mode: FeatureMode
    let encoder: ColumnEncoder
    /// Item features (file or database source), read for items the request gives no value.
    let items: ItemStore?
    let outputs: [ModelOutput]
    let limits: ServeLimits
    let fgLimits: FGLimits
    /// Requests with at least this many items run on `pool`.
    let offloadItems: Int
    let pool: NIOThreadPool?
    let nonFinite: NonFiniteFeaturePolicy
    /// Request features read as numbers, where a "nan" / "inf" string counts as non-finite.
    let numericFields: Set<String>
    private let scratchPool = Mutex<[Scratch]>([])

    struct Scratch: Sendable {
        var features: FeatureBatch
        var encoded: EncodedBatch
        var predict = PredictScratch()
        var logits: [Float] = []
        var probs: [Float] = []
        var sample: [UInt8] = []
    }

    /// Why the scorer could not be built (FG config, columns, model).
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(store: ParameterStore, mode: FeatureMode, items: ItemStore?, outputs: [ModelOutput],
                limits: ServeLimits, offloadItems: Int = 256, pool: NIOThreadPool?,
                nonFinite: NonFiniteFeaturePolicy = .reject) throws(SetupError) {
        self.store = store
        self.nonFinite = nonFinite
        if case .fg(let plan) = mode { numericFields = plan.numericFieldNames } else { numericFields = [] }
        do {
            forward = try DeepFMPredictor(spec: store.spec)
        } catch {
            throw SetupError(description: "model: \(error)")
        }
        do {
            encoder = try ColumnEncoder(specs: store.spec.columns, layout: mode.slotNames)
        } catch {
            throw SetupError(description: "feature columns: \(error.description)")
        }
        self.mode = mode
        self.items = items
        self.outputs = outputs
        self.limits = limits
        fgLimits = FGLimits(maxItems: limits.maxItems, maxValuesPerInput: limits.maxValuesPerFeature)
        self.offloadItems = offloadItems
        self.pool = pool
    }

    public func predict(_ request: PBRequest) async throws(PredictFailure) -> PBResponse {
        let fgRequest = try prepare(request)
        guard let pool, fgRequest.itemIds.count >= offloadItems else {
            return try score(fgRequest)
        }
        let result: Result<PBResponse, PredictFailure>
        do {
            result = try await pool.runIfActive { [self] in
                Result { () throws(PredictFailure) -> PBResponse in try self.score(fgRequest) }
            }
        } catch {
            throw PredictFailure("the server is shutting down")
        }
        return try result.get()
    }

    /// Validate and convert the request (cheap; runs inline).
    func prepare(_ request: PBRequest) throws(PredictFailure) -> FGRequest {
        try PredictRequestCheck.check(request, limits: limits)
        let items = request.itemIds
        var user: [String: FeatureValue] = [:]
        user.reserveCapacity(request.userFeatures.count)
        for (name, feature) in request.userFeatures {
            guard let value = try convert(feature, numeric: numericFields.contains(name), field: "user_features.\(name)") else { continue }
            user[name] = value
        }
        var itemFeatures: [String: [FeatureValue]] = [:]
        itemFeatures.reserveCapacity(request.contextFeatures.count + (self.items?.fields.count ?? 0))
        for (name, context) in request.contextFeatures {
            let list = context.features
            if list.isEmpty { continue }  // list lengths: checked by PredictRequestCheck
            var values: [FeatureValue] = []
            values.reserveCapacity(list.count)
            let numeric = numericFields.contains(name)  // once per feature, not per item
            for (i, feature) in list.enumerated() {
                values.append(try convert(feature, numeric: numeric, field: "context_features.\(name).features[\(i)]") ?? .strings([]))
            }
            itemFeatures[name] = values
        }
        if let store = self.items {
            let stored = store.values(of: items)  // one consistent version of each item
            for (f, field) in store.fields.enumerated() {
                let fromRequest = itemFeatures[field]
                if let fromRequest, fromRequest.count == 1 { continue }  // one request value for all items wins
                var values: [FeatureValue] = []
                values.reserveCapacity(items.count)
                var found = false
                for i in items.indices {
                    if let given = fromRequest?[i], given != .strings([]) {
                        values.append(given)
                    } else if let v = stored[f][i] {
                        values.append(v)
                        found = true
                    } else {
                        values.append(.strings([]))
                    }
                }
                if found { itemFeatures[field] = values }
            }
        }
        let fg = FGRequest(userFeatures: user, itemIds: items, itemFeatures: itemFeatures, debugLevel: Int(request.debugLevel))
        do {
            try fg.validate(limits: fgLimits)
        } catch {
            throw PredictFailure(error.description)
        }
        return fg
    }

    /// PBFeature -> FG value; nil when no value is set. Enforces the values-per-feature limit.
    /// `numeric`: the feature is read as a number (a "nan" / "inf" string is then non-finite).
    /// `field` names the value in an error and is only built then (this runs per item and feature).
    private func convert(_ feature: PBFeature, numeric: Bool, field: @autoclosure () -> String) throws(PredictFailure) -> FeatureValue? {
        switch feature.value {
        case .none: return nil
        case .intFeature(let v): return .int(Int64(v))
        case .longFeature(let v): return .int(v)
        case .floatFeature(let v):
            guard v.isFinite else {
                if nonFinite == .missing { return nil }
                throw PredictFailure("\(field()): float_feature is \(v), not a finite number (send a number, or leave the feature out; `odl serve --non-finite-features missing` treats it as missing)")
            }
            return .float(Double(v))
        case .stringFeature(let s):
            if s.utf8.count > limits.maxValuesPerFeature {  // cheap pre-check before counting separators
                var values = 1
                for b in s.utf8 where b == 0x1d { values += 1 }
                if values > limits.maxValuesPerFeature {
                    throw PredictFailure("\(field()): \(values) values exceed the limit of \(limits.maxValuesPerFeature) per feature")
                }
            }
            // "nan" / "inf" sent as text to a raw (numeric) feature is the same mistake as a NaN float.
            if numeric, s.utf8.count <= 9, Self.isNonFiniteText(s) {
                if nonFinite == .missing { return nil }
                throw PredictFailure("\(field()): string_feature \"\(s)\" is not a finite number (send a number, or leave the feature out; `odl serve --non-finite-features missing` treats it as missing)")
            }
            return .string(s)
        }
    }

    /// `nan`, `inf`, `infinity` in any case, with an optional sign.
    static func isNonFiniteText(_ s: String) -> Bool {
        var t = s.trimmingCharacters(in: .whitespaces).lowercased()
        if t.hasPrefix("+") || t.hasPrefix("-") { t.removeFirst() }
        return t == "nan" || t == "inf" || t == "infinity"
    }

    /// FG + forward for a prepared request.
    func score(_ request: FGRequest) throws(PredictFailure) -> PBResponse {
        var s = takeScratch()
        defer { putScratch(s) }
        do {
            switch mode {
            case .fg(let plan): try plan.evaluate(request, into: &s.features)
            case .bypass(let schema): try s.features.loadBypass(request, schema: schema)
            }
            try encoder.encode(s.features, into: &s.encoded)
        } catch {
            throw PredictFailure(error.description)
        }
        var response = PBResponse()
        let ids = request.itemIds
        if request.debugLevel != 1 {
            do {
                try forward.predict(batch: s.encoded, store: store, scratch: &s.predict, logits: &s.logits, probs: &s.probs)
            } catch {
                throw PredictFailure("model: \(error)")
            }
            response.outputs = outputs.map(\.rawValue)
            response.results.reserveCapacity(ids.count)
            for (i, id) in ids.enumerated() {
                var r = PBResults()
                r.scores = outputs.map { $0 == .probs ? Double(s.probs[i]) : Double(s.logits[i]) }
                response.results[id] = r
            }
        }
        if request.debugLevel >= 1 {
            let ignored = ignoredFeatures(request)
            if !ignored.isEmpty { response.rawFeatures[Self.ignoredFeaturesKey] = ignored.joined(separator: ",") }
            for (i, id) in ids.enumerated() {
                response.generateFeatures[id] = request.debugLevel == 3
                    ? s.features.renderSample(item: i) : Self.readable(s.features, item: i)
            }
        }
        response.itemIds = ids
        return response
    }

    /// Key in `raw_features` of debug answers: the request features the model does not read, comma-separated.
    public static let ignoredFeaturesKey = "ignored_request_features"

    /// Request feature names (user and context) that neither fg.json nor the item table reads, sorted.
    func ignoredFeatures(_ request: FGRequest) -> [String] {
        let known = mode.readFieldNames
        let given = Set(request.userFeatures.keys).union(request.itemFeatures.keys)
        return given.subtracting(known).subtracting(items?.fields ?? []).sorted()
    }

    /// Debug levels 1 and 2: one JSON object per item, FG output name -> its values.
    static func readable(_ batch: FeatureBatch, item: Int) -> String {
        var object: [String: [String]] = [:]
        for (slot, name) in batch.names.enumerated() {
            let strings = batch.strings(slot: slot, item: item)
            let weights = batch.weights(slot: slot, item: item)
            object[name] = strings.enumerated().map { i, text in
                i < weights.count && weights[i] != 1 ? "\(text):\(weights[i])" : text
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private func takeScratch() -> Scratch {
        if let s = scratchPool.withLock({ $0.popLast() }) { return s }
        return Scratch(features: FeatureBatch(names: mode.slotNames), encoded: EncodedBatch(columnCount: store.spec.columns.count))
    }

    private func putScratch(_ s: Scratch) {
        scratchPool.withLock { $0.append(s) }
    }
}
