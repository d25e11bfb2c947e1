/// The benchmark's ceiling peer (`odl serve --ceiling`): answers a decoded request with a score
/// of 0 per item and output, in the shape and size of the model's answer, without FG or the
/// model. The HTTP stack, decoding, checks, metrics and update stream stay the real ones, so the
/// predict / ceiling ratio measures what FG and the forward pass cost.
public struct CeilingPredictor: PredictHandling {
    let outputs: [String]
    let limits: ServeLimits
    /// One result: a zero per output (protobuf packs the doubles, so zeros take the real bytes).
    let zeros: PBResults

    public init(outputs: [ModelOutput], limits: ServeLimits) {
        self.outputs = outputs.map(\.rawValue)
        self.limits = limits
        var r = PBResults()
        r.scores = [Double](repeating: 0, count: outputs.count)
        zeros = r
    }

    public func predict(_ request: PBRequest) async throws(PredictFailure) -> PBResponse {
        try PredictRequestCheck.check(request, limits: limits)
        var response = PBResponse()
        // debug_level 1 asks for features only: the model's answer then has no results either.
        if request.debugLevel != 1 {
            response.outputs = outputs
            response.results.reserveCapacity(request.itemIds.count)
            for id in request.itemIds { response.results[id] = zeros }
        }
        response.itemIds = request.itemIds
        return response
    }
}
