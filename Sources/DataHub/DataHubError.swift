/// A failed DataHub call: what was asked (`operation`, naming project/topic/shard), the HTTP
/// status (0: no response) and DataHub's error code and message.
public struct DataHubError: Error, Equatable, CustomStringConvertible, Sendable {
    public var operation: String
    public var status: Int
    public var code: String
    public var message: String

    public init(operation: String, status: Int, code: String, message: String) {
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String {
        let where_ = status == 0 ? "no response" : "HTTP \(status)"
        return "datahub \(operation): \(code.isEmpty ? "" : code + ": ")\(message) (\(where_))"
    }

    /// A bad akId/akSecret or a missing permission: retrying cannot help.
    public var isCredentialError: Bool {
        ["Unauthorized", "NoPermission", "InvalidAccessKeyId", "SignatureNotMatch"].contains(code) || status == 401 || status == 403
    }

    /// The service was unreachable, overloaded or throttled: worth retrying after a pause.
    public var isRetryable: Bool {
        status == 0 || status == 429 || status >= 500 || ["LimitExceeded", "InternalServerError", "ServiceUnavailable"].contains(code)
    }

    /// The cursor is malformed, expired (data past its lifecycle) or out of the shard's range.
    public var isCursorError: Bool { ["InvalidCursor", "SeekOutOfRange"].contains(code) }

    /// A read at the end of a CLOSED (split or merged) shard: nothing more will come from it.
    public var isShardSealed: Bool { ["InvalidShardOperation", "ShardSealed"].contains(code) }
}
