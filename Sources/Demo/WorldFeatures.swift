import FG
import Foundation

/// A raw feature value as a request carries it (PBFeature's int/string/float oneof).
enum RawValue: Sendable, Equatable {
    case int(Int32)
    case string(String)
    case float(Float)

    /// protobuf canonical JSON of a `PBFeature`.
    var pbJSON: [String: Any] {
        switch self {
        case .int(let v): return ["int_feature": Int(v)]
        case .string(let s): return ["string_feature": s]
        case .float(let f): return ["float_feature": Double("\(f)") ?? Double(f)]   // shortest form: 1.6, not 1.600000023841858
        }
    }
}

/// The raw features of one page: what a recommender front end knows at request time.
/// The same values feed the predict request and, through FG, the training samples.
struct PageFeatures: Sendable {
    /// `user:` side, one value each.
    var user: [(name: String, value: RawValue)]
    var itemIds: [String]
    /// `item:` side, one value per item (in `itemIds` order).
    var item: [(name: String, values: [RawValue])]
    /// `context:` side, one value broadcast to all items.
    var context: [(name: String, value: RawValue)]
}

extension World {
    /// The public (observable) features of a page; hidden factors never appear here.
    func features(of page: WorldPage) -> PageFeatures {
        let u = users[page.user]
        let shown = page.impressions.map { items[$0.item] }
        return PageFeatures(
            user: [("user_id", .string(u.id)), ("segment", .int(Int32(u.segment))), ("level", .int(Int32(u.level)))],
            itemIds: shown.map(\.id),
            item: [
                ("category", shown.map { .int(Int32($0.category)) }),
                ("age_hours", page.impressions.map { .float(Float(($0.ageHours * 10).rounded() / 10)) }),
                ("price", shown.map { .float(Float($0.price)) }),
            ],
            context: [("hour", .int(Int32(page.hour)))])
    }
}

extension PageFeatures {
    /// The predict request (serving-api.md JSON form of `PBRequest`). Item-side and context
    /// values both travel in `context_features` (one value per item, or one broadcast value).
    func predictRequestJSON() -> [String: Any] {
        var userFeatures: [String: Any] = [:]
        for (name, value) in user { userFeatures[name] = value.pbJSON }
        var contextFeatures: [String: Any] = [:]
        for (name, values) in item { contextFeatures[name] = ["features": values.map(\.pbJSON)] }
        for (name, value) in context { contextFeatures[name] = ["features": [value.pbJSON]] }
        return ["user_features": userFeatures, "item_ids": itemIds, "context_features": contextFeatures]
    }

    func predictRequestData() throws -> Data {
        try JSONSerialization.data(withJSONObject: predictRequestJSON(), options: [.sortedKeys])
    }

    /// The same request as FG sees it after parsing ``predictRequestJSON()`` (item-side and
    /// context values both in `itemFeatures`), built directly: rendering samples this way
    /// skips a JSON round trip per page.
    func fgRequest() -> FGRequest {
        var userFeatures: [String: FeatureValue] = [:]
        for (name, value) in user { userFeatures[name] = value.featureValue }
        var itemFeatures: [String: [FeatureValue]] = [:]
        for (name, values) in item { itemFeatures[name] = values.map(\.featureValue) }
        for (name, value) in context { itemFeatures[name] = [value.featureValue] }
        return FGRequest(userFeatures: userFeatures, itemIds: itemIds, itemFeatures: itemFeatures)
    }
}

extension RawValue {
    /// FG's value of this `PBFeature` (int32 widened, a protobuf float as its exact double).
    var featureValue: FeatureValue {
        switch self {
        case .int(let v): return .int(Int64(v))
        case .string(let s): return .string(s)
        case .float(let f): return .float(Double(f))
        }
    }
}
