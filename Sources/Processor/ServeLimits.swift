/// Request limits of the predict API (serving-api.md "Limits"); every one has an option.
public struct ServeLimits: Sendable, Equatable {
    /// Largest accepted request body in bytes, after gzip inflation too.
    public var maxBodyBytes: Int
    /// Most item ids in one request.
    public var maxItems: Int
    /// Most values in one multi-value feature (after splitting on `\x1d`).
    public var maxValuesPerFeature: Int
    /// Most predict requests in flight at once; more are answered 503 with Retry-After.
    public var maxConcurrentRequests: Int
    /// Seconds suggested to a client answered 503.
    public var retryAfterSeconds: Int

    public init(maxBodyBytes: Int = 8 << 20, maxItems: Int = 2000, maxValuesPerFeature: Int = 1000,
                maxConcurrentRequests: Int = 256, retryAfterSeconds: Int = 1) {
        self.maxBodyBytes = maxBodyBytes
        self.maxItems = maxItems
        self.maxValuesPerFeature = maxValuesPerFeature
        self.maxConcurrentRequests = maxConcurrentRequests
        self.retryAfterSeconds = retryAfterSeconds
    }
}
