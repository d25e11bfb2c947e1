/// The raw features of one request: one user, N items (fg.md section 2).
/// `item:` and `context:` expressions both read `itemFeatures`; an item feature with one value
/// is broadcast to all items; `item_id` defaults to the item's id.
public struct FGRequest: Sendable, Equatable {
    public var debugLevel: Int
    public var userFeatures: [String: FeatureValue]
    public var itemIds: [String]
    /// Per item (count == itemIds.count) or one value broadcast to every item.
    public var itemFeatures: [String: [FeatureValue]]

    public init(userFeatures: [String: FeatureValue] = [:], itemIds: [String],
                itemFeatures: [String: [FeatureValue]] = [:], debugLevel: Int = 0) {
        self.userFeatures = userFeatures
        self.itemIds = itemIds
        self.itemFeatures = itemFeatures
        self.debugLevel = debugLevel
    }

    /// Check item count and per-item value counts against the limits.
    public func validate(limits: FGLimits) throws(FGError) {
        guard itemIds.count <= limits.maxItems else {
            throw .invalidRequest(field: "item_ids", reason: "\(itemIds.count) items exceed the limit of \(limits.maxItems)")
        }
        for (name, values) in itemFeatures where values.count != 1 && values.count != itemIds.count {
            throw .invalidRequest(field: "context_features.\(name)",
                                  reason: "has \(values.count) values for \(itemIds.count) items (expected 1 or \(itemIds.count))")
        }
    }
}

/// One input of one feature resolved against a request (internal). A struct of plain fields so
/// that reading one item's value borrows the arrays instead of retaining them.
struct ResolvedInput {
    enum Kind { case missing, one, perItem, itemIds }
    let kind: Kind
    let single: FeatureValue?
    let values: [FeatureValue]
    let ids: [String]

    static let missing = ResolvedInput(kind: .missing, single: nil, values: [], ids: [])

    private init(kind: Kind, single: FeatureValue?, values: [FeatureValue], ids: [String]) {
        self.kind = kind
        self.single = single
        self.values = values
        self.ids = ids
    }

    init(one v: FeatureValue) { self.init(kind: .one, single: v, values: [], ids: []) }

    init(_ input: FGInput, _ request: FGRequest) {
        switch input.side {
        case .user:
            if let v = request.userFeatures[input.field] { self.init(one: v) } else { self = .missing }
        case .item, .context:
            if let vs = request.itemFeatures[input.field] {
                if vs.count == 1 { self.init(one: vs[0]) }
                else if vs.isEmpty { self = .missing }
                else { self.init(kind: .perItem, single: nil, values: vs, ids: []) }
            } else if input.field == "item_id" {
                if request.itemIds.count == 1 { self.init(one: .string(request.itemIds[0])) }
                else { self.init(kind: .itemIds, single: nil, values: [], ids: request.itemIds) }
            } else {
                self = .missing
            }
        }
    }

    var isBroadcast: Bool { kind == .missing || kind == .one }

    @inline(__always)
    func value(_ item: Int) -> FeatureValue? {
        switch kind {
        case .missing: return nil
        case .one: return single
        case .perItem: return item < values.count ? values[item] : nil
        case .itemIds: return item < ids.count ? .string(ids[item]) : nil
        }
    }
}
