/// Why one predict request was refused: answered HTTP 400 with `status_code` and a
/// one-line `error_msg` naming the offending field (serving-api.md "Errors").
public struct PredictFailure: Error, Equatable, CustomStringConvertible {
    /// `INPUT_EMPTY` for a request naming no items, `EXCEPTION` for everything else.
    public var status: PBStatusCode
    public var message: String
    /// HTTP status of the answer: 400, or 413 for a body over the size limit.
    public var httpStatus: Int = 400

    public init(_ message: String) {
        self.init(.exception, message)
    }

    public init(_ status: PBStatusCode, _ message: String, httpStatus: Int = 400) {
        self.status = status
        self.httpStatus = httpStatus
        // error_msg is one line: a newline inside a field value must not split it.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { message }

    /// A body over `--max-body-bytes`: HTTP 413.
    static func tooLarge(_ message: String) -> PredictFailure { PredictFailure(.exception, message, httpStatus: 413) }

    static func empty(_ message: String) -> PredictFailure { PredictFailure(.inputEmpty, message) }
}
