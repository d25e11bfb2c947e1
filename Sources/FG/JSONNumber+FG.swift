import JSON

/// A JSON number as FG reads it: an integer literal that fits Int64, else a Double.
enum FGNumber: Equatable {
    case int(Int64)
    case double(Double)
}

extension JSONValue {
    /// This value as an ``FGNumber`` (nil for non-numbers).
    var fgNumber: FGNumber? {
        if let i = int64 { return .int(i) }
        return double.map { .double($0) }
    }
}
