/// A failure talking to PostgreSQL: what was being done (connect to which server, which
/// statement) and the server's or libpq's message.
public struct PGError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was being done, e.g. `connect to 127.0.0.1:5432/shop` or `FETCH from items`.
    public var context: String
    public var message: String
    /// SQLSTATE of a server error, nil for connection or client-side errors.
    public var sqlState: String?

    public init(context: String, message: String, sqlState: String? = nil) {
        self.context = context
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String {
        "\(context): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }
}
