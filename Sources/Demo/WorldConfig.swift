/// Size and dynamics of the synthetic click world (`odl gen`, `odl demo`).
package struct WorldConfig: Sendable, Codable, Equatable {
    package var seed: UInt64 = 7
    package var users = 2000
    package var segments = 6
    package var userLevels = 5
    package var categories = 12
    package var latentDim = 4
    /// Items alive when "yesterday" starts (born during the 36 hours before it).
    package var initialItems = 240
    /// New items born per world hour, yesterday and today alike.
    package var newItemsPerHour = 8.0
    /// Page views per day; every page shows `itemsPerPage` distinct items to one user.
    package var yesterdayPages = 120000
    package var todayPages = 4000
    package var itemsPerPage = 5
    /// An item's popularity halves every this many hours after its birth.
    package var popularityHalfLifeHours = 5.0
    /// Length of one world day in world seconds.
    package var daySeconds = 86_400.0

    package init() {}

    /// Checks the sizes; names the first bad field.
    func validate() throws(WorldError) {
        let positive: [(String, Int)] = [
            ("users", users), ("segments", segments), ("userLevels", userLevels),
            ("categories", categories), ("latentDim", latentDim), ("initialItems", initialItems),
            ("yesterdayPages", yesterdayPages), ("todayPages", todayPages), ("itemsPerPage", itemsPerPage),
        ]
        for (name, value) in positive where value <= 0 {
            throw WorldError.badConfig(field: name, reason: "must be > 0, got \(value)")
        }
        if itemsPerPage > initialItems {
            throw WorldError.badConfig(field: "itemsPerPage", reason: "exceeds initialItems (\(initialItems))")
        }
        if !(newItemsPerHour >= 0 && newItemsPerHour.isFinite) {
            throw WorldError.badConfig(field: "newItemsPerHour", reason: "must be a finite number >= 0")
        }
        if !(popularityHalfLifeHours > 0 && popularityHalfLifeHours.isFinite) {
            throw WorldError.badConfig(field: "popularityHalfLifeHours", reason: "must be > 0")
        }
        if !(daySeconds >= 3600 && daySeconds.isFinite) {
            throw WorldError.badConfig(field: "daySeconds", reason: "must be >= 3600")
        }
    }
}

/// Errors of the world generator and its output files.
enum WorldError: Error, CustomStringConvertible {
    case badConfig(field: String, reason: String)
    case io(path: String, reason: String)

    var description: String {
        switch self {
        case .badConfig(let f, let r): return "world config field \(f): \(r)"
        case .io(let p, let r): return "\(p): \(r)"
        }
    }
}
