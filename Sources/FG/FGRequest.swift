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

/// One input of one feature resolved against a request (internal).
enum ResolvedInput {
    case missing
    case one(FeatureValue)
    case perItem([FeatureValue])
    case itemIds([String])

    init(_ input: FGInput, _ request: FGRequest) {
        switch input.side {
        case .user:
            if let v = request.userFeatures[input.field] { self = .one(v) } else { self = .missing }
        case .item, .context:
            if let vs = request.itemFeatures[input.field] {
                if vs.count == 1 { self = .one(vs[0]) } else if vs.isEmpty { self = .missing } else { self = .perItem(vs) }
            } else if input.field == "item_id" {
                self = request.itemIds.count == 1 ? .one(.string(request.itemIds[0])) : .itemIds(request.itemIds)
            } else {
                self = .missing
            }
        }
    }

    var isBroadcast: Bool {
        switch self {
        case .missing, .one: return true
        case .perItem, .itemIds: return false
        }
    }

    @inline(__always)
    func value(_ item: Int) -> FeatureValue? {
        switch self {
        case .missing: return nil
        case .one(let v): return v
        case .perItem(let vs): return item < vs.count ? vs[item] : nil
        case .itemIds(let ids): return item < ids.count ? .string(ids[item]) : nil
        }
    }
}
