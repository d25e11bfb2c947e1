/// The request-level checks every predict handler makes before scoring (item count, debug level,
/// context feature list lengths), so the model scorer and the ceiling peer refuse the same
/// requests with the same errors.
enum PredictRequestCheck {
    /// Throws the failure the API answers for a request of the wrong shape; feature values are
    /// checked later, while they are converted.
    static func check(_ request: PBRequest, limits: ServeLimits) throws(PredictFailure) {
        let count = request.itemIds.count
        guard count > 0 else { throw .empty("item_ids is empty: the request names no item to score") }
        guard count <= limits.maxItems else {
            throw PredictFailure("item_ids: \(count) items exceed the limit of \(limits.maxItems)")
        }
        guard (0...3).contains(request.debugLevel) else {
            throw PredictFailure("debug_level: \(request.debugLevel) is not 0, 1, 2 or 3")
        }
        for (name, context) in request.contextFeatures {
            let n = context.features.count
            guard n <= 1 || n == count else {
                throw PredictFailure("context_features.\(name): \(n) values for \(count) items (need 1 or \(count))")
            }
        }
    }
}
