import DataHub
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The DataHub REST API (JSON protocol) over a ``DataHubStore``: projects, topics, shards,
/// cursors, put and get records, each request's signature checked against one akId/akSecret.
public struct DataHubResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let store: DataHubStore
    let accessId: String
    let accessKey: String
    /// Requests answered and refused (bad signature, bad body, unknown resource, ...).
    public let counters = Counters()

    /// Request counts shared by all copies of the responder.
    public final class Counters: Sendable {
        let state = Mutex<(requests: Int, refused: Int)>((0, 0))
        public var refused: Int { state.withLock { $0.refused } }
        public var requests: Int { state.withLock { $0.requests } }
    }

    public init(store: DataHubStore, accessId: String, accessKey: String) {
        self.store = store
        self.accessId = accessId
        self.accessKey = accessKey
    }

    static let maxBody = 64 << 20
    static let requestIdHeader = HTTPField.Name("x-datahub-request-id")
    static let rawSizeHeader = HTTPField.Name("x-datahub-content-raw-size")

    public func respond(to request: Request, context: Context) async throws -> Response {
        let id = counters.state.withLock { c -> Int in c.requests += 1; return c.requests }
        let requestId = String(format: "odl%013d", id)
        do {
            try authorize(request)
            var buffer = try await request.body.collect(upTo: Self.maxBody)
            let raw = buffer.readBytes(length: buffer.readableBytes) ?? []
            let body = try decode(raw, request)
            let (status, json) = try route(request, body: body)
            return reply(status, json, requestId)
        } catch let fault as DataHubFault {
            counters.state.withLock { $0.refused += 1 }
            return reply(fault.status, ["ErrorCode": fault.code, "ErrorMessage": fault.message], requestId)
        } catch {
            counters.state.withLock { $0.refused += 1 }
            return reply(400, ["ErrorCode": "InvalidParameter", "ErrorMessage": "request body: \(error)"], requestId)
        }
    }

    private func reply(_ status: Int, _ json: [String: Any]?, _ requestId: String) -> Response {
        var headers = HTTPFields()
        if let name = Self.requestIdHeader { headers[name] = requestId }
        headers[.contentType] = "application/json"
        let text = json.map(DataHubJSON.string) ?? ""
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Checks `Authorization: DATAHUB <akId>:<signature>` as the SDKs compute it.
    func authorize(_ request: Request) throws(DataHubFault) {
        guard let auth = request.headers[.authorization], auth.hasPrefix("DATAHUB ") else {
            throw DataHubFault(401, "Unauthorized", "missing DATAHUB Authorization header")
        }
        let value = auth.dropFirst("DATAHUB ".count)
        guard let colon = value.lastIndex(of: ":") else { throw DataHubFault(401, "Unauthorized", "malformed Authorization header") }
        let id = String(value[..<colon]), signature = String(value[value.index(after: colon)...])
        guard id == accessId else { throw DataHubFault(401, "Unauthorized", "unknown AccessKeyId \(id)") }
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let canonical = DataHubSignature.canonical(method: request.method.rawValue, contentType: request.headers[.contentType] ?? "",
                                                   date: request.headers[.date] ?? "", headers: headers,
                                                   path: request.uri.path, query: request.uri.query)
        guard DataHubSignature.sign(canonical, secret: accessKey) == signature else {
            throw DataHubFault(401, "Unauthorized", "signature does not match (wrong AccessKeySecret for \(id)?)")
        }
    }

    /// The body after `Content-Encoding` (lz4 as the SDKs send by default; none).
    func decode(_ raw: [UInt8], _ request: Request) throws(DataHubFault) -> [UInt8] {
        let encoding = request.headers[.contentEncoding]?.lowercased() ?? ""
        switch encoding {
        case "", "identity": return raw
        case "lz4":
            guard let name = Self.rawSizeHeader, let size = request.headers[name].flatMap(Int.init) else {
                throw DataHubFault(400, "InvalidParameter", "lz4 body without x-datahub-content-raw-size")
            }
            do { return try LZ4Block.decompress(raw, rawSize: size) } catch {
                throw DataHubFault(400, "InvalidParameter", "\(error)")
            }
        default:
            throw DataHubFault(400, "InvalidParameter", "Content-Encoding \(encoding) is not supported by this endpoint (use lz4 or none)")
        }
    }

    func route(_ request: Request, body: [UInt8]) throws(DataHubFault) -> (Int, [String: Any]?) {
        let parts = request.uri.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let json: [String: Any]
        if body.isEmpty { json = [:] } else {
            guard let o = DataHubJSON.object(body) else {
                throw DataHubFault(400, "InvalidParameter", "body is not a JSON object (this endpoint speaks the JSON protocol; protobuf and batch are not supported)")
            }
            json = o
        }
        let method = request.method
        guard parts.first == "projects" else { throw DataHubFault(404, "InvalidUriSpec", "unknown path \(request.uri.path)") }
        switch (method, parts.count) {
        case (.get, 1):
            return (200, ["ProjectNames": store.projectNames()])
        case (.post, 2):
            try store.createProject(parts[1], comment: json["Comment"] as? String ?? "")
            return (201, nil)
        case (.get, 2):
            let p = try store.project(parts[1])
            return (200, ["Comment": p.comment, "CreateTime": p.createTime, "LastModifyTime": p.createTime])
        case (.get, 3) where parts[2] == "topics":
            return (200, ["TopicNames": try store.project(parts[1]).topics])
        case (.post, 4) where parts[2] == "topics":
            return try createTopic(parts[1], parts[3], json)
        case (.get, 4) where parts[2] == "topics":
            let t = try store.topicInfo(project: parts[1], topic: parts[3])
            var out: [String: Any] = ["ShardCount": t.shards.count, "Lifecycle": t.lifecycle, "RecordType": t.type.rawValue,
                                      "Comment": t.comment, "CreateTime": t.createTime, "LastModifyTime": t.createTime]
            if let s = t.schema { out["RecordSchema"] = s.jsonString }
            return (200, out)
        case (.get, 5) where parts[2] == "topics" && parts[4] == "shards":
            let list: [[String: Any]] = try store.listShards(project: parts[1], topic: parts[3]).map { s in
                ["ShardId": s.id, "State": s.state, "ClosedTime": s.closedTime.map { String($0) } ?? "", "ParentShardIds": s.parents,
                 "BeginHashKey": s.beginHashKey, "EndHashKey": s.endHashKey, "LeftShardId": s.leftShardId, "RightShardId": s.rightShardId]
            }
            return (200, ["Shards": list, "Protocol": "http1.1", "Interval": 500])
        case (.post, 5) where parts[2] == "topics" && parts[4] == "shards":
            switch json["Action"] as? String {
            case "pub":
                return try put(parts[1], parts[3], json)
            case "split":
                guard let shard = json["ShardId"] as? String, let key = json["SplitKey"] as? String else {
                    throw DataHubFault(400, "InvalidParameter", "split needs ShardId and SplitKey")
                }
                let children = try store.splitShard(project: parts[1], topic: parts[3], shard: shard, splitKey: key)
                return (200, ["NewShards": children.map { ["ShardId": $0.id, "BeginHashKey": $0.beginHashKey, "EndHashKey": $0.endHashKey] }])
            case "merge":
                guard let shard = json["ShardId"] as? String, let adjacent = json["AdjacentShardId"] as? String else {
                    throw DataHubFault(400, "InvalidParameter", "merge needs ShardId and AdjacentShardId")
                }
                let child = try store.mergeShard(project: parts[1], topic: parts[3], shard: shard, adjacent: adjacent)
                return (200, ["ShardId": child.id, "BeginHashKey": child.beginHashKey, "EndHashKey": child.endHashKey])
            default:
                throw DataHubFault(400, "InvalidParameter", "shard operation \(json["Action"] ?? "nil") is not supported (pub, split, merge)")
            }
        case (.post, 6) where parts[2] == "topics" && parts[4] == "shards":
            return try shardAction(parts[1], parts[3], parts[5], json)
        default:
            throw DataHubFault(404, "InvalidUriSpec", "\(method.rawValue) \(request.uri.path) is not supported by this endpoint")
        }
    }

    private func createTopic(_ project: String, _ topic: String, _ json: [String: Any]) throws(DataHubFault) -> (Int, [String: Any]?) {
        if let action = json["Action"] { throw DataHubFault(400, "InvalidParameter", "topic action \(action) is not supported") }
        guard let type = (json["RecordType"] as? String).flatMap(RecordType.init(rawValue:)) else {
            throw DataHubFault(400, "InvalidParameter", "RecordType must be TUPLE or BLOB")
        }
        guard let shards = DataHubJSON.int64(json["ShardCount"]) else { throw DataHubFault(400, "InvalidParameter", "ShardCount missing") }
        var schema: RecordSchema?
        if type == .tuple {
            guard let text = json["RecordSchema"] as? String else { throw DataHubFault(400, "InvalidSchema", "RecordSchema missing") }
            do { schema = try RecordSchema(jsonString: text, context: "create topic") } catch {
                throw DataHubFault(400, "InvalidSchema", error.message)
            }
        }
        try store.createTopic(project: project, topic: topic, shardCount: Int(shards), lifecycle: Int(DataHubJSON.int64(json["Lifecycle"]) ?? 1),
                              type: type, schema: schema, comment: json["Comment"] as? String ?? "")
        return (201, nil)
    }

    private func put(_ project: String, _ topic: String, _ json: [String: Any]) throws(DataHubFault) -> (Int, [String: Any]?) {
        guard let list = json["Records"] as? [[String: Any]] else { throw DataHubFault(400, "InvalidParameter", "Records missing") }
        var records: [DataHubRecord] = []
        for (i, r) in list.enumerated() {
            let data: RecordData
            do { data = try DataHubRecord.decodeData(r["Data"], context: "record \(i)") } catch { data = .malformed(error.message) }
            var attrs: [String: String] = [:]
            if let a = r["Attributes"] as? [String: Any] { for (k, v) in a { attrs[k] = "\(v)" } }
            records.append(DataHubRecord(data: data, shardId: r["ShardId"] as? String, partitionKey: r["PartitionKey"] as? String,
                                         attributes: attrs))
        }
        let failed = try store.put(project: project, topic: topic, records)
        return (200, ["FailedRecordCount": failed.count,
                      "FailedRecords": failed.map { ["Index": $0.0, "ErrorCode": $0.1, "ErrorMessage": $0.2] as [String: Any] }])
    }

    private func shardAction(_ project: String, _ topic: String, _ shard: String, _ json: [String: Any]) throws(DataHubFault) -> (Int, [String: Any]?) {
        switch json["Action"] as? String {
        case "cursor":
            let type: CursorType
            switch json["Type"] as? String {
            case "OLDEST": type = .oldest
            case "LATEST": type = .latest
            case "SYSTEM_TIME":
                guard let t = DataHubJSON.int64(json["SystemTime"]) else { throw DataHubFault(400, "InvalidParameter", "SystemTime missing") }
                type = .systemTime(t)
            case "SEQUENCE":
                guard let s = DataHubJSON.int64(json["Sequence"]) else { throw DataHubFault(400, "InvalidParameter", "Sequence missing") }
                type = .sequence(s)
            default:
                throw DataHubFault(400, "InvalidParameter", "cursor Type \(json["Type"] ?? "nil") is not OLDEST, LATEST, SYSTEM_TIME or SEQUENCE")
            }
            let c = try store.cursor(project: project, topic: topic, shard: shard, type)
            return (200, ["Cursor": c.cursor, "RecordTime": c.recordTime, "Sequence": c.sequence])
        case "sub":
            guard let cursor = json["Cursor"] as? String else { throw DataHubFault(400, "InvalidParameter", "Cursor missing") }
            let limit = Int(DataHubJSON.int64(json["Limit"]) ?? 10)
            guard (1...10_000).contains(limit) else { throw DataHubFault(400, "InvalidParameter", "Limit \(limit) must be 1...10000") }
            let r = try store.read(project: project, topic: topic, shard: shard, cursor: cursor, limit: limit)
            let records: [[String: Any]] = r.records.map { rec in
                var d: [String: Any] = ["Data": rec.jsonData, "Sequence": rec.sequence, "SystemTime": rec.systemTime]
                if !rec.attributes.isEmpty { d["Attributes"] = rec.attributes }
                return d
            }
            return (200, ["NextCursor": r.next, "RecordCount": records.count, "StartSeq": r.records.first?.sequence ?? -1, "Records": records])
        default:
            throw DataHubFault(400, "InvalidParameter", "shard Action \(json["Action"] ?? "nil") is not supported (cursor, sub)")
        }
    }
}
