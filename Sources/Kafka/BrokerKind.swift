import Foundation

/// Which broker a test runs against: librdkafka's embedded mock cluster or a real broker process.
public enum BrokerKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case embedded
    case real

    public var description: String { rawValue }

    /// The kinds `ODL_TEST_KAFKA` selects: `embedded`, `real` or `both` (the default when unset).
    public static func selected(environment: [String: String] = ProcessInfo.processInfo.environment) throws(RealBrokerError) -> [BrokerKind] {
        switch environment["ODL_TEST_KAFKA"]?.lowercased() {
        case nil, "", "both": return [.embedded, .real]
        case "embedded": return [.embedded]
        case "real": return [.real]
        case let other?:
            throw RealBrokerError(description: "ODL_TEST_KAFKA=\(other) is not one of real, embedded, both")
        }
    }

    /// The kinds for parameterized tests; a bad `ODL_TEST_KAFKA` selects both, and `checkSelection`
    /// (called when a broker starts) then fails the test with the reason.
    public static var forTests: [BrokerKind] { (try? selected()) ?? allCases }

    /// Throws when `ODL_TEST_KAFKA` holds a bad value.
    public static func checkSelection() throws(RealBrokerError) { _ = try selected() }
}
