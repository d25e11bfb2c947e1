import Foundation

/// A DataHub client over the public HTTP REST API (JSON protocol), signed as the official SDKs
/// sign. Blocking (libcurl): use it from a dedicated thread. Calls that fail with a retryable
/// error (no response, HTTP 5xx/429, LimitExceeded) are retried `retries` times with backoff;
/// `onRetry` hears about each retry.
public final class DataHubClient: Sendable {
    public let endpoint: String
    public let accessId: String
    let secret: String
    let transport: CurlTransport
    public let retries: Int
    let onRetry: (@Sendable (DataHubError, Double) -> Void)?

    /// `endpoint` is the config's `region`: a URL, or a host that gets `http://`.
    public init(endpoint: String, accessId: String, accessKey: String, retries: Int = 3, timeoutSeconds: Int = 30,
                onRetry: (@Sendable (DataHubError, Double) -> Void)? = nil) {
        var e = endpoint.trimmingCharacters(in: .whitespaces)
        if !e.contains("://") { e = "http://" + e }
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        self.accessId = accessId.trimmingCharacters(in: .whitespaces)
        self.secret = accessKey.trimmingCharacters(in: .whitespaces)
        self.transport = CurlTransport(timeoutSeconds: timeoutSeconds)
        self.retries = max(0, retries)
        self.onRetry = onRetry
    }

    // MARK: projects and topics

    public func createProject(_ project: String, comment: String = "") throws(DataHubError) {
        _ = try call("POST", "/projects/\(project)", ["Comment": comment], operation: "create project \(project)")
    }

    public func createTopic(project: String, topic: String, shardCount: Int, lifecycle: Int = 1, type: RecordType,
                            schema: RecordSchema?, comment: String = "") throws(DataHubError) {
        var body: [String: Any] = ["ShardCount": shardCount, "Lifecycle": lifecycle, "RecordType": type.rawValue, "Comment": comment]
        if let schema { body["RecordSchema"] = schema.jsonString }
        _ = try call("POST", "/projects/\(project)/topics/\(topic)", body, operation: "create topic \(project)/\(topic)")
    }

    public func getTopic(project: String, topic: String) throws(DataHubError) -> TopicInfo {
        let op = "get topic \(project)/\(topic)"
        let o = try call("GET", "/projects/\(project)/topics/\(topic)", nil, operation: op)
        guard let t = (o["RecordType"] as? String).flatMap(RecordType.init(rawValue:)) else {
            throw DataHubError(operation: op, status: 200, code: "", message: "answer has no RecordType")
        }
        let schema: RecordSchema? = try (o["RecordSchema"] as? String).map { s throws(DataHubError) in try RecordSchema(jsonString: s, context: op) }
        return TopicInfo(shardCount: Int(DataHubJSON.int64(o["ShardCount"]) ?? 0), lifecycle: Int(DataHubJSON.int64(o["Lifecycle"]) ?? 0),
                         recordType: t, schema: schema)
    }

    public func listShards(project: String, topic: String) throws(DataHubError) -> [ShardInfo] {
        let op = "list shards of \(project)/\(topic)"
        let o = try call("GET", "/projects/\(project)/topics/\(topic)/shards", nil, operation: op)
        guard let list = o["Shards"] as? [[String: Any]] else {
            throw DataHubError(operation: op, status: 200, code: "", message: "answer has no Shards")
        }
        return list.compactMap { s in
            guard let id = s["ShardId"] as? String else { return nil }
            return ShardInfo(id: id, state: s["State"] as? String ?? "ACTIVE", parentIds: s["ParentShardIds"] as? [String] ?? [])
        }
    }

    /// Splits ACTIVE `shard` at `splitKey` (32 hex digits inside its hash range); returns the two new shard ids.
    public func splitShard(project: String, topic: String, shard: String, splitKey: String) throws(DataHubError) -> [String] {
        let op = "split shard \(shard) of \(project)/\(topic)"
        let o = try call("POST", "/projects/\(project)/topics/\(topic)/shards", ["Action": "split", "ShardId": shard, "SplitKey": splitKey],
                         operation: op)
        guard let list = o["NewShards"] as? [[String: Any]] else {
            throw DataHubError(operation: op, status: 200, code: "", message: "answer has no NewShards")
        }
        return list.compactMap { $0["ShardId"] as? String }
    }

    /// Merges ACTIVE `shard` with the ACTIVE shard right after it in key order; returns the new shard id.
    public func mergeShard(project: String, topic: String, shard: String, adjacent: String) throws(DataHubError) -> String {
        let op = "merge shards \(shard) and \(adjacent) of \(project)/\(topic)"
        let o = try call("POST", "/projects/\(project)/topics/\(topic)/shards", ["Action": "merge", "ShardId": shard, "AdjacentShardId": adjacent],
                         operation: op)
        guard let id = o["ShardId"] as? String else {
            throw DataHubError(operation: op, status: 200, code: "", message: "answer has no ShardId")
        }
        return id
    }

    // MARK: cursors and records

    public func getCursor(project: String, topic: String, shard: String, _ type: CursorType) throws(DataHubError) -> CursorResult {
        var body: [String: Any] = ["Action": "cursor", "Type": type.name]
        switch type {
        case .systemTime(let t): body["SystemTime"] = t
        case .sequence(let s): body["Sequence"] = s
        default: break
        }
        let op = "get \(type.name) cursor of \(project)/\(topic) shard \(shard)"
        let o = try call("POST", "/projects/\(project)/topics/\(topic)/shards/\(shard)", body, operation: op)
        guard let c = o["Cursor"] as? String else { throw DataHubError(operation: op, status: 200, code: "", message: "answer has no Cursor") }
        return CursorResult(cursor: c, sequence: DataHubJSON.int64(o["Sequence"]) ?? -1, recordTime: DataHubJSON.int64(o["RecordTime"]) ?? 0)
    }

    /// Up to `limit` records from `cursor`. A record whose Data does not decode comes back as
    /// `.malformed` with its sequence, for the reader to count and skip.
    public func getRecords(project: String, topic: String, shard: String, cursor: String, limit: Int) throws(DataHubError) -> RecordBatch {
        let op = "get records of \(project)/\(topic) shard \(shard)"
        let o = try call("POST", "/projects/\(project)/topics/\(topic)/shards/\(shard)",
                         ["Action": "sub", "Cursor": cursor, "Limit": limit], operation: op)
        guard let next = o["NextCursor"] as? String, let list = o["Records"] as? [[String: Any]] else {
            throw DataHubError(operation: op, status: 200, code: "", message: "answer lacks NextCursor or Records")
        }
        var out: [DataHubRecord] = []
        out.reserveCapacity(list.count)
        for r in list {
            let seq = DataHubJSON.int64(r["Sequence"]) ?? -1
            let data: RecordData
            do { data = try DataHubRecord.decodeData(r["Data"], context: "\(op) sequence \(seq)") } catch { data = .malformed(error.message) }
            var attrs: [String: String] = [:]
            if let a = r["Attributes"] as? [String: Any] { for (k, v) in a { attrs[k] = "\(v)" } }
            out.append(DataHubRecord(data: data, sequence: seq, systemTime: DataHubJSON.int64(r["SystemTime"]) ?? 0, attributes: attrs))
        }
        return RecordBatch(records: out, nextCursor: next)
    }

    /// Writes records; returns the indexes (and error codes) of the records the service refused.
    @discardableResult
    public func putRecords(project: String, topic: String, _ records: [DataHubRecord]) throws(DataHubError) -> [(index: Int, code: String)] {
        let list: [[String: Any]] = records.map { r in
            var d: [String: Any] = ["Data": r.jsonData]
            if let s = r.shardId { d["ShardId"] = s }
            if let p = r.partitionKey { d["PartitionKey"] = p }
            if !r.attributes.isEmpty { d["Attributes"] = r.attributes }
            return d
        }
        let o = try call("POST", "/projects/\(project)/topics/\(topic)/shards", ["Action": "pub", "Records": list],
                         operation: "put \(records.count) records to \(project)/\(topic)")
        let failed = o["FailedRecords"] as? [[String: Any]] ?? []
        return failed.map { (Int(DataHubJSON.int64($0["Index"]) ?? -1), $0["ErrorCode"] as? String ?? "") }
    }

    // MARK: transport

    /// One signed call with retries; the decoded JSON answer (empty for an empty body).
    func call(_ method: String, _ path: String, _ body: [String: Any]?, operation: String) throws(DataHubError) -> [String: Any] {
        var delay = 0.2
        var attempt = 0
        while true {
            do {
                return try callOnce(method, path, body, operation: operation)
            } catch {
                guard error.isRetryable, attempt < retries else { throw error }
                attempt += 1
                onRetry?(error, delay)
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 2)
            }
        }
    }

    func callOnce(_ method: String, _ path: String, _ body: [String: Any]?, operation: String) throws(DataHubError) -> [String: Any] {
        let bytes = body.map { Array(DataHubJSON.string($0).utf8) }
        let date = DataHubSignature.httpDate()
        let contentType = "application/json"
        var headers: [(String, String)] = [("Content-Type", contentType), ("Date", date), ("x-datahub-client-version", "1.1"),
                                           ("User-Agent", "odl-datahub/1")]
        let canonical = DataHubSignature.canonical(method: method, contentType: contentType, date: date,
                                                   headers: headers.map { (name: $0.0, value: $0.1) }, path: path, query: nil)
        headers.append(("Authorization", DataHubSignature.authorization(accessId: accessId, secret: secret, canonical: canonical)))
        let r = transport.perform(method: method, url: endpoint + path, headers: headers, body: bytes ?? (method == "GET" ? nil : []))
        if r.status == 0 { throw DataHubError(operation: operation, status: 0, code: "", message: "\(endpoint): \(r.error)") }
        let object = r.body.isEmpty ? [:] : DataHubJSON.object(r.body)
        guard (200..<300).contains(r.status) else {
            let code = object?["ErrorCode"] as? String ?? ""
            let message = object?["ErrorMessage"] as? String ?? String(decoding: r.body.prefix(200), as: UTF8.self)
            throw DataHubError(operation: operation, status: r.status, code: code, message: message)
        }
        guard let object else {
            throw DataHubError(operation: operation, status: r.status, code: "", message: "answer is not JSON: \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        return object
    }
}
