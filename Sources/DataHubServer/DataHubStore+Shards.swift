import DataHub

/// DataHub's shard operations: split one ACTIVE shard at a hash key into two children, merge two
/// adjacent ACTIVE shards into one. The parents become CLOSED: they take no more writes and stay
/// readable to their end; children name them in `parents`. New shard ids continue the numbering.
extension DataHubStore {
    /// A shard as ListShard describes it.
    public struct ShardView: Sendable, Equatable {
        public var id: String
        public var state: String
        public var closedTime: Int64?
        public var parents: [String]
        public var beginHashKey: String
        public var endHashKey: String
        public var leftShardId: String
        public var rightShardId: String
    }

    /// `n` ACTIVE shards cutting the 128-bit key space into equal ranges.
    static func initialShards(_ n: Int) -> [Shard] {
        (0..<n).map { i in
            Shard(id: String(i), begin: hashBound(i, of: n), end: hashBound(i + 1, of: n))
        }
    }

    /// Begin key of range `i` of `n` (the top key for `i == n`).
    static func hashBound(_ i: Int, of n: Int) -> UInt128 {
        if i >= n { return .max }
        return (UInt128.max / UInt128(n)) * UInt128(i)
    }

    /// 32 uppercase hex digits, as DataHub writes hash keys.
    static func hashKeyText(_ v: UInt128) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 32 - s.count)) + s
    }

    /// Splits ACTIVE `shard` at `splitKey` (32 hex digits strictly inside its range); returns the two children.
    public func splitShard(project: String, topic: String, shard: String, splitKey: String) throws(DataHubFault) -> [ShardView] {
        let now = clock() / 1000
        let views = try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
            try Self.split(&t, shard: shard, splitKey: splitKey, name: "\(project)/\(topic)", now: now)
        }
        append([["op": "split", "project": project, "topic": topic, "shard": shard, "key": splitKey, "time": now]])
        return views
    }

    /// Merges ACTIVE `shard` with the ACTIVE shard right after it in key order; returns the merged child.
    public func mergeShard(project: String, topic: String, shard: String, adjacent: String) throws(DataHubFault) -> ShardView {
        let now = clock() / 1000
        let view = try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
            try Self.merge(&t, shard: shard, adjacent: adjacent, name: "\(project)/\(topic)", now: now)
        }
        append([["op": "merge", "project": project, "topic": topic, "shard": shard, "adjacent": adjacent, "time": now]])
        return view
    }

    /// Every shard of the topic, ACTIVE and CLOSED, in id order.
    public func listShards(project: String, topic: String) throws(DataHubFault) -> [ShardView] {
        let t = try topicInfo(project: project, topic: topic)
        return t.shards.map { Self.view($0, in: t) }
    }

    func replayShardChange(_ o: [String: Any]) throws(DataHubFault) {
        guard let project = o["project"] as? String, let topic = o["topic"] as? String, let shard = o["shard"] as? String else {
            throw DataHubFault(500, "InternalServerError", "\(o["op"] ?? "shard") entry incomplete")
        }
        let now = DataHubJSON.int64(o["time"]) ?? clock() / 1000
        try withTopic(project, topic) { (t: inout Topic) throws(DataHubFault) in
            if o["op"] as? String == "split" {
                guard let key = o["key"] as? String else { throw DataHubFault(500, "InternalServerError", "split entry without key") }
                _ = try Self.split(&t, shard: shard, splitKey: key, name: "\(project)/\(topic)", now: now)
            } else {
                guard let adjacent = o["adjacent"] as? String else { throw DataHubFault(500, "InternalServerError", "merge entry without adjacent") }
                _ = try Self.merge(&t, shard: shard, adjacent: adjacent, name: "\(project)/\(topic)", now: now)
            }
        }
    }

    private static func activeIndex(_ t: Topic, _ shard: String, _ name: String) throws(DataHubFault) -> Int {
        let i = try shardIndex(t, shard, name)
        guard t.shards[i].closedTime == nil else {
            throw DataHubFault(400, "InvalidShardOperation", "shard \(shard) of \(name) is CLOSED; only ACTIVE shards split or merge")
        }
        return i
    }

    private static func nextId(_ t: Topic) -> String {
        String((t.shards.compactMap { Int($0.id) }.max() ?? -1) + 1)
    }

    static func split(_ t: inout Topic, shard: String, splitKey: String, name: String, now: Int64) throws(DataHubFault) -> [ShardView] {
        let i = try activeIndex(t, shard, name)
        guard splitKey.count <= 32, let key = UInt128(splitKey, radix: 16) else {
            throw DataHubFault(400, "InvalidParameter", "SplitKey \"\(splitKey)\" is not a hash key of up to 32 hex digits")
        }
        let parent = t.shards[i]
        guard key > parent.begin, key < parent.end else {
            throw DataHubFault(400, "InvalidParameter", "SplitKey \(splitKey) is not inside shard \(shard)'s range "
                + "[\(hashKeyText(parent.begin)), \(hashKeyText(parent.end)))")
        }
        let left = Shard(id: nextId(t), begin: parent.begin, end: key, parents: [shard])
        t.shards.append(left)
        let right = Shard(id: nextId(t), begin: key, end: parent.end, parents: [shard])
        t.shards.append(right)
        t.shards[i].closedTime = now
        return [view(left, in: t), view(right, in: t)]
    }

    static func merge(_ t: inout Topic, shard: String, adjacent: String, name: String, now: Int64) throws(DataHubFault) -> ShardView {
        let i = try activeIndex(t, shard, name), j = try activeIndex(t, adjacent, name)
        guard t.shards[i].end == t.shards[j].begin else {
            throw DataHubFault(400, "InvalidParameter", "shards \(shard) and \(adjacent) of \(name) are not adjacent "
                + "(\(adjacent) must begin where \(shard) ends)")
        }
        let child = Shard(id: nextId(t), begin: t.shards[i].begin, end: t.shards[j].end, parents: [shard, adjacent])
        t.shards.append(child)
        t.shards[i].closedTime = now
        t.shards[j].closedTime = now
        return view(child, in: t)
    }

    /// LeftShardId / RightShardId: the shards of the same state whose ranges touch this one's ("" at the edges).
    static func view(_ s: Shard, in t: Topic) -> ShardView {
        let peers = t.shards.filter { ($0.closedTime == nil) == (s.closedTime == nil) }
        let left = peers.first { $0.end == s.begin }?.id ?? ""
        let right = peers.first { $0.begin == s.end }?.id ?? ""
        return ShardView(id: s.id, state: s.closedTime == nil ? "ACTIVE" : "CLOSED", closedTime: s.closedTime, parents: s.parents,
                         beginHashKey: hashKeyText(s.begin), endHashKey: hashKeyText(s.end), leftShardId: left, rightShardId: right)
    }
}
