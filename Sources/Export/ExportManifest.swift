import Foundation

/// `kafka.txt` (and the `kafka` block of `incr_update.txt`): where the update stream is.
public struct KafkaInfo: Sendable, Equatable {
    public var server: String
    public var topic: String
    /// `consumer.offset`: first update offset to consume (a JSON number or decimal string).
    public var offset: Int64
    /// (ours) Per-partition start offsets overriding `offset`.
    public var offsets: [Int32: Int64]?

    public init(server: String, topic: String, offset: Int64 = 0, offsets: [Int32: Int64]? = nil) {
        self.server = server
        self.topic = topic
        self.offset = offset
        self.offsets = offsets
    }

    /// Start offset of `partition`.
    public func startOffset(partition: Int32) -> Int64 { offsets?[partition] ?? offset }

    func jsonObject() -> [String: Any] {
        var o: [String: Any] = ["server": server, "topic": topic, "consumer": ["offset": offset]]
        if let offsets {
            var m: [String: Any] = [:]
            for (p, v) in offsets { m[String(p)] = v }
            o["offsets"] = m
        }
        return o
    }

    static func parse(_ o: [String: Any], path: String) throws(ExportError) -> KafkaInfo {
        guard let server = o["server"] as? String else { throw .badFile(path: path, reason: "no \"server\" string") }
        guard let topic = o["topic"] as? String else { throw .badFile(path: path, reason: "no \"topic\" string") }
        var offset: Int64 = 0
        if let c = o["consumer"] as? [String: Any], let v = c["offset"] {
            guard let n = jsonInt64(v) else { throw .badFile(path: path, reason: "consumer.offset \(v) is not an integer") }
            offset = n
        }
        var offsets: [Int32: Int64]?
        if let m = o["offsets"] as? [String: Any] {
            var out: [Int32: Int64] = [:]
            for (k, v) in m {
                guard let p = Int32(k), let n = jsonInt64(v) else {
                    throw .badFile(path: path, reason: "offsets entry \"\(k)\": \(v) is not partition -> integer")
                }
                out[p] = n
            }
            offsets = out
        }
        return KafkaInfo(server: server, topic: topic, offset: offset, offsets: offsets)
    }
}

/// A JSON number (integral) or decimal string as Int64.
func jsonInt64(_ v: Any) -> Int64? {
    if let s = v as? String { return Int64(s.trimmingCharacters(in: .whitespaces)) }
    if let n = v as? NSNumber {
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 9.2e18 else { return nil }
        return n.int64Value
    }
    return nil
}

/// `incr_update.txt`: where the trainer publishes updates.
public enum IncrUpdateInfo: Sendable, Equatable {
    case kafka(KafkaInfo)
    case fs(incrSaveDir: String)

    func jsonObject() -> [String: Any] {
        switch self {
        case .kafka(let k): return ["storage": "kafka", "kafka": k.jsonObject()]
        case .fs(let d): return ["storage": "fs", "fs": ["incr_save_dir": d]]
        }
    }

    static func parse(_ o: [String: Any], path: String) throws(ExportError) -> IncrUpdateInfo {
        let storage = o["storage"] as? String ?? (o["kafka"] != nil ? "kafka" : "fs")
        switch storage {
        case "kafka":
            guard let k = o["kafka"] as? [String: Any] else { throw .badFile(path: path, reason: "storage kafka without a \"kafka\" object") }
            return .kafka(try KafkaInfo.parse(k, path: path))
        case "fs":
            guard let f = o["fs"] as? [String: Any], let d = f["incr_save_dir"] as? String else {
                throw .badFile(path: path, reason: "storage fs without fs.incr_save_dir")
            }
            return .fs(incrSaveDir: d)
        default:
            throw .badFile(path: path, reason: "unknown storage \"\(storage)\"")
        }
    }
}

/// The metadata files of an export version folder (formats.md section 2), without parameters.
public struct ExportManifest: Sendable, Equatable {
    /// The version folder that was read.
    public var versionDir: String
    /// `pipeline.config` text (parse it with the Config module).
    public var pipelineConfig: String
    /// `fg.json` text; nil in bypass mode.
    public var fgJSON: String?
    /// `DENSE_UPDATE_VARIABLES`: name -> id.
    public var denseVariableIds: [String: Int]
    /// `embed_name_to_ids.txt`: name -> id.
    public var embeddingIds: [String: Int]
    /// `kafka.txt`, else the kafka block of `incr_update.txt`.
    public var kafka: KafkaInfo?
    public var incrUpdate: IncrUpdateInfo?
    /// `signature.json`.
    public var signature: ExportSignature?
    /// `export_info.json` **(ours)**: the trainer step the exported parameters come from.
    public var globalStep: Int64?

    public init(versionDir: String, pipelineConfig: String, fgJSON: String? = nil,
                denseVariableIds: [String: Int], embeddingIds: [String: Int], kafka: KafkaInfo? = nil,
                incrUpdate: IncrUpdateInfo? = nil, signature: ExportSignature? = nil, globalStep: Int64? = nil) {
        self.globalStep = globalStep
        self.versionDir = versionDir
        self.pipelineConfig = pipelineConfig
        self.fgJSON = fgJSON
        self.denseVariableIds = denseVariableIds
        self.embeddingIds = embeddingIds
        self.kafka = kafka
        self.incrUpdate = incrUpdate
        self.signature = signature
    }

    /// Dense names ordered by id.
    public var denseNamesById: [String] { denseVariableIds.sorted { $0.value < $1.value }.map(\.key) }
    /// Embedding names ordered by id.
    public var embeddingNamesById: [String] { embeddingIds.sorted { $0.value < $1.value }.map(\.key) }
}
