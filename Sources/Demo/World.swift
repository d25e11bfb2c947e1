import Foundation

/// A user of the synthetic world: public features (id, segment, level) and hidden taste.
struct WorldUser: Sendable {
    var index: Int
    var segment: Int
    var level: Int
    var bias: Double
    var latent: [Double]
    var id: String { "u\(index)" }
}

/// An item: public features (id, category, price, birth time) and hidden quality and taste.
struct WorldItem: Sendable {
    var index: Int
    var category: Int
    var price: Double
    /// Birth time in world seconds (yesterday starts at 0, today at `daySeconds`).
    var birth: Double
    var quality: Double
    var latent: [Double]
    var basePopularity: Double
    var id: String { "i\(index)" }
}

/// One impression: an item shown on a page, its ground-truth click probability and the click.
struct WorldImpression: Sendable {
    var item: Int
    var ageHours: Double
    var trueProbability: Double
    var label: Int
}

/// One page view: a user at a time, shown several items.
struct WorldPage: Sendable {
    var index: Int
    var time: Double
    var isToday: Bool
    var user: Int
    var hour: Int
    var impressions: [WorldImpression]
}

/// The generated world: catalog, users and two days of pages in time order.
struct World: Sendable {
    var config: WorldConfig
    var users: [WorldUser]
    var items: [WorldItem]
    /// Hidden segment x category affinity (`segments` rows, `categories` columns).
    var segmentCategory: [[Double]]
    var yesterday: [WorldPage]
    var today: [WorldPage]

    /// True when the item was born during "today": the base model has never seen it.
    func isNew(_ item: Int) -> Bool { items[item].birth >= config.daySeconds }
}

/// Builds a `World` from a config; the same config (seed included) always gives the same world.
enum WorldGenerator {
    static let baseLogit = -2.2

    static func generate(_ config: WorldConfig) throws(WorldError) -> World {
        try config.validate()
        var rng = DemoRandom(seed: config.seed, stream: 1)
        let k = config.latentDim
        let latentScale = 0.75 / Double(k).squareRoot() * 2

        let users = (0..<config.users).map { i in
            WorldUser(index: i, segment: rng.index(config.segments), level: 1 + rng.index(config.userLevels),
                      bias: 0.3 * rng.normal(),
                      latent: (0..<k).map { _ in latentScale * rng.normal() })
        }
        let segCat = (0..<config.segments).map { _ in (0..<config.categories).map { _ in 0.6 * rng.normal() } }

        // Catalog: initial items born in the 36 h before yesterday, then a steady stream of new ones.
        var births: [Double] = (0..<config.initialItems).map { _ in -36 * 3600 * rng.uniform() }
        births.sort()
        let perDay = Int((config.newItemsPerHour * config.daySeconds / 3600).rounded())
        for day in 0..<2 {
            var b = (0..<perDay).map { _ in (Double(day) + rng.uniform()) * config.daySeconds }
            b.sort()
            births += b
        }
        var itemRng = DemoRandom(seed: config.seed, stream: 2)
        let items = births.enumerated().map { (i, birth) in
            WorldItem(index: i, category: itemRng.index(config.categories),
                      price: (20 * exp(0.8 * itemRng.normal()) * 100).rounded() / 100,
                      birth: birth, quality: 0.9 * itemRng.normal(),
                      latent: (0..<k).map { _ in latentScale * itemRng.normal() },
                      basePopularity: exp(0.7 * itemRng.normal()))
        }

        var world = World(config: config, users: users, items: items, segmentCategory: segCat,
                          yesterday: [], today: [])
        var pageRng = DemoRandom(seed: config.seed, stream: 3)
        var index = 0
        world.yesterday = makePages(world: world, count: config.yesterdayPages, dayStart: 0,
                                    isToday: false, firstIndex: &index, rng: &pageRng)
        world.today = makePages(world: world, count: config.todayPages, dayStart: config.daySeconds,
                                isToday: true, firstIndex: &index, rng: &pageRng)
        return world
    }

    /// Ground-truth click probability of `item` for `user` at world time `time`.
    static func clickProbability(world: World, user: WorldUser, item: WorldItem, time: Double) -> Double {
        let ageHours = max(0, (time - item.birth) / 3600)
        var dot = 0.0
        for d in 0..<min(user.latent.count, item.latent.count) { dot += user.latent[d] * item.latent[d] }
        let hour = hourOfDay(time)
        let logit = baseLogit + user.bias + 0.12 * Double(user.level - 3) + dot + item.quality
            + world.segmentCategory[user.segment][item.category]
            + 0.3 * sin(2 * Double.pi * Double(hour) / 24)
            + 0.5 * exp(-ageHours / 4)
            - 0.25 * log2(item.price / 20)
        return 1 / (1 + exp(-logit))
    }

    static func hourOfDay(_ time: Double) -> Int {
        let h = Int(floor(time / 3600)) % 24
        return h < 0 ? h + 24 : h
    }

    private static func makePages(world: World, count: Int, dayStart: Double, isToday: Bool,
                                  firstIndex: inout Int, rng: inout DemoRandom) -> [WorldPage] {
        let config = world.config
        let halfLife = config.popularityHalfLifeHours * 3600
        var pages: [WorldPage] = []
        pages.reserveCapacity(count)
        var weights: [Double] = []
        var alive: [Int] = []
        for p in 0..<count {
            let time = dayStart + (Double(p) + rng.uniform()) / Double(count) * config.daySeconds
            // Popularity of every item born by now, decaying with age.
            alive.removeAll(keepingCapacity: true)
            weights.removeAll(keepingCapacity: true)
            for item in world.items {
                if item.birth > time { break }   // items are sorted by birth
                let w = item.basePopularity * exp2(-(time - item.birth) / halfLife)
                if w > 1e-4 { alive.append(item.index); weights.append(w) }
            }
            let user = world.users[rng.index(world.users.count)]
            var shown: [WorldImpression] = []
            let n = min(config.itemsPerPage, alive.count)
            for _ in 0..<n {
                let total = weights.reduce(0, +)
                var r = rng.uniform() * total
                var pick = weights.count - 1
                for (j, w) in weights.enumerated() {
                    r -= w
                    if r < 0 { pick = j; break }
                }
                let item = world.items[alive[pick]]
                weights[pick] = 0   // without replacement
                let prob = clickProbability(world: world, user: user, item: item, time: time)
                let label = rng.uniform() < prob ? 1 : 0
                shown.append(WorldImpression(item: item.index, ageHours: max(0, (time - item.birth) / 3600),
                                             trueProbability: prob, label: label))
            }
            pages.append(WorldPage(index: firstIndex, time: time, isToday: isToday, user: user.index,
                                   hour: hourOfDay(time), impressions: shown))
            firstIndex += 1
        }
        return pages
    }
}
