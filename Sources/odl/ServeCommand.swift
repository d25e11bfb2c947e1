import ArgumentParser
import Foundation
import Logging
import Inference
import Processor

/// `odl serve`: the EAS-compatible predict processor with live parameter updates.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve an exported model over HTTP (EAS predict API) while applying its update stream.",
        discussion: """
        Kafka server, topic and start offset default to the export's kafka.txt (or incr_update.txt).
        A restart always serves the base model and replays the updates from the start offset.
        Endpoints: POST /api/predict/<name>, POST /predict, GET /healthz /readyz /status /metrics.
        Request feature names (user_features, context_features) are fg.json *input* names (the
        field after "user:" / "item:" / "context:"), not output feature names; a feature the model
        does not read is ignored, and answers with debug_level >= 1 list such features in
        raw_features["ignored_request_features"].
        With --token, /status and /metrics stay open unless --protect-ops; /healthz and /readyz are always open.
        """)

    @Option(name: .long, help: "Export folder, or one of its version folders.")
    var model: String
    @Option(name: .long, help: "Embeddings exported separately (local path or http(s) URL).")
    var embeddingDir: String?
    @Option(name: .long, help: "Address to listen on (0.0.0.0: every interface, warned about without --token).")
    var host: String = "127.0.0.1"
    @Option(name: .long, help: "Port (0 = ephemeral; the bound address is printed as 'listening: http://HOST:PORT').")
    var port: Int = 8080
    @Option(name: .long, help: "Kafka bootstrap servers of the update topic (default: the export's).")
    var kafkaServer: String?
    @Option(name: .long, help: "Update topic (default: the export's).")
    var topic: String?
    @Option(name: .long, help: "Partitions to consume, e.g. 0,1 (default: all).")
    var partitions: String?
    @Option(name: .long, help: "Start offset: N for every partition, or P:O,P:O (default: the export's kafka.txt).")
    var startOffset: String?
    @Option(name: .long, help: "fs mode: apply dense_update_<step>/sparse_update_<step> files from this folder.")
    var incrSaveDir: String?
    @Flag(name: .long, help: "Serve the base model only; consume no updates.")
    var noUpdates = false
    @Option(name: [.customLong("item-source-file"), .customLong("item-table")],
            help: "Item feature file loaded once: CSV with a header row, or JSON lines (.jsonl). --item-table is an alias.")
    var itemTable: String?
    @Option(name: .long, help: "Item features from PostgreSQL/Hologres, kept current: postgres://USER@HOST:PORT/DB?table=T&key=item_id&time_key=updated_at[&deleted=COL&overlap=5]. Password: PGPASSWORD or --item-password-file.")
    var itemSource: String?
    @Option(name: .long, help: "File holding the item source's password.")
    var itemPasswordFile: String?
    @Option(name: .long, help: "Interval of incremental item refreshes (e.g. 1s, 500ms).")
    var itemRefresh: String = "1s"
    @Option(name: .long, help: "Interval of full item reloads that also drop deleted items (e.g. 10m; default never).")
    var itemReconcile: String?
    @Option(name: .long, help: "Key column of the item table.")
    var itemKey: String = "item_id"
    @Option(name: .long, help: "Require 'Authorization: <token>' on predict calls (default: env ODL_TOKEN).")
    var token: String?
    @Flag(name: .long, help: "Require the token on /status and /metrics too.")
    var protectOps = false
    @Option(name: .long, help: "Seconds a client may take to send one request, first byte to last (else 408 and close).")
    var readTimeout: Double = 10
    @Option(name: .long, help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout: Double = 60
    @Option(name: .long, help: "Most open connections (more wait in the listen backlog).")
    var maxConnections: Int = 1024
    @Option(name: .long, help: "NaN/infinite float features in a request: reject (HTTP 400 naming the field) or missing (take the feature's default).")
    var nonFiniteFeatures: String = "reject"
    @Option(name: .long, help: "Outputs per item, in order (probs, logits).")
    var outputs: String = "probs,logits"
    @Option(name: .long, help: "Service name: only /api/predict/<name> answers (default: any name).")
    var name: String?
    @Option(name: .long, help: "Largest request body in bytes (also after gzip inflation).")
    var maxBodyBytes: Int = ServeLimits().maxBodyBytes
    @Option(name: .long, help: "Most items per request.")
    var maxItems: Int = ServeLimits().maxItems
    @Option(name: .long, help: "Most values per multi-value feature.")
    var maxValues: Int = ServeLimits().maxValuesPerFeature
    @Option(name: .long, help: "Most concurrent predict requests (more get 503 with Retry-After).")
    var maxConcurrent: Int = ServeLimits().maxConcurrentRequests
    @Option(name: .long, help: "Threads that score large requests.")
    var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    @Option(name: .long, help: "Requests with at least this many items are scored on the worker threads.")
    var offloadItems: Int = 256
    @Flag(name: .long, help: "Accept NaN/infinite values in update messages (rejected by default).")
    var allowNonFinite = false
    @Option(name: .long, help: "Seconds a dense (sparse) update may wait for the same step's sparse (dense) one before it is reported.")
    var pairingWindow: Double = 30
    @Flag(name: .long, help: "Do not report unpaired dense/sparse steps (trainer saves them at different cadences).")
    var noPairingCheck = false
    @Option(name: .long, help: "Keep resident memory under this size (e.g. 4G): sorted key-value tables are then served from read-only file maps, released from memory when over it.")
    var memoryBudget: String?
    @Option(name: .long, help: "Serve key-value tables with sorted keys and at least this many rows from read-only file maps, without an in-memory hash index (default 16777216; 0 with --memory-budget).")
    var mappedKVMinRows: Int?
    @Option(name: .long, help: "Make room at load for this many new keys in every key-value table (memory faulted in, hash index sized), so inserting them costs no page fault or re-hash.")
    var kvReserveRows: Int = 0
    @Option(name: .long, help: "How embedding rows are held in memory: f32, or bf16 (half the memory; rows rounded to nearest even at load and on every update; dense parameters, updates on the wire and the forward pass stay f32; tables served from sorted file maps stay f32).")
    var embeddingDtype: String = "f32"
    @Option(name: .long, help: "Extra librdkafka consumer setting KEY=VALUE (repeatable), e.g. security.protocol=SASL_SSL.")
    var kafkaSetting: [String] = []
    @Flag(name: .long, help: ArgumentHelp("Benchmark ceiling peer: answer a score of 0 per item after decoding the request (no FG, no model).",
                                          visibility: .hidden))
    var ceiling = false
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    @Option(name: .long, help: "Log line format on stderr: text, or json (one object per line).")
    var logFormat: LogFormat = .text

    @OptionGroup var storage: StorageFlags

    func run() async throws {
        storage.apply()
        var options = ServeOptions(model: model)
        options.embeddingDir = embeddingDir
        options.host = host
        options.port = port
        options.kafkaServer = kafkaServer
        options.topic = topic
        if let partitions {
            var list: [Int32] = []
            for part in partitions.split(separator: ",") {
                guard let p = Int32(part.trimmingCharacters(in: .whitespaces)), p >= 0 else {
                    throw ValidationError("--partitions: \"\(part)\" is not a partition number")
                }
                list.append(p)
            }
            options.partitions = list
        }
        options.startOffset = startOffset
        options.incrSaveDir = incrSaveDir
        options.noUpdates = noUpdates
        options.itemTable = itemTable
        options.itemSource = itemSource
        options.itemPasswordFile = itemPasswordFile
        guard let refresh = ItemSourceSettings.parseDuration(itemRefresh) else {
            throw ValidationError("--item-refresh: \"\(itemRefresh)\" is not a duration such as 1s or 500ms")
        }
        options.itemRefreshSeconds = refresh
        if let itemReconcile {
            guard let reconcile = ItemSourceSettings.parseDuration(itemReconcile) else {
                throw ValidationError("--item-reconcile: \"\(itemReconcile)\" is not a duration such as 10m")
            }
            options.itemReconcileSeconds = reconcile
        }
        options.itemKey = itemKey
        options.token = token ?? ProcessInfo.processInfo.environment["ODL_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            options.outputs = try ModelOutput.parseList(outputs)
        } catch {
            throw ValidationError("--\(error.message)")
        }
        options.serviceName = name
        options.ceiling = ceiling
        options.protectOps = protectOps
        if protectOps, options.token == nil { throw ValidationError("--protect-ops needs --token (or ODL_TOKEN)") }
        for (flag, value) in [("--read-timeout", readTimeout), ("--idle-timeout", idleTimeout)] where !(value > 0) || !value.isFinite {
            throw ValidationError("\(flag) must be a positive number of seconds")
        }
        options.readTimeout = readTimeout
        options.idleTimeout = idleTimeout
        guard let policy = NonFiniteFeaturePolicy(rawValue: nonFiniteFeatures) else {
            throw ValidationError("--non-finite-features: \"\(nonFiniteFeatures)\" is not reject or missing")
        }
        options.nonFiniteFeatures = policy
        for (flag, value) in [("--max-body-bytes", maxBodyBytes), ("--max-items", maxItems), ("--max-values", maxValues),
                              ("--max-concurrent", maxConcurrent), ("--workers", workers),
                              ("--max-connections", maxConnections)] where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        options.limits = ServeLimits(maxBodyBytes: maxBodyBytes, maxItems: maxItems, maxValuesPerFeature: maxValues,
                                     maxConcurrentRequests: maxConcurrent)
        options.workerThreads = workers
        options.maxConnections = maxConnections
        options.offloadItems = offloadItems
        options.allowNonFinite = allowNonFinite
        options.pairingWindow = pairingWindow
        options.checkPairing = !noPairingCheck
        if let memoryBudget {
            do { options.memoryBudget = try MemoryBudget.parseSize(memoryBudget) } catch { throw ValidationError(error.description) }
        }
        guard kvReserveRows >= 0 else { throw ValidationError("--kv-reserve-rows must be 0 or more") }
        options.kvReserveRows = kvReserveRows
        guard let dtype = EmbeddingDType(rawValue: embeddingDtype) else {
            throw ValidationError("--embedding-dtype: \"\(embeddingDtype)\" is not f32 or bf16")
        }
        options.embeddingDType = dtype
        if let mappedKVMinRows {
            guard mappedKVMinRows >= 0 else { throw ValidationError("--mapped-kv-min-rows must be 0 or more") }
            options.sortedKVMinRows = mappedKVMinRows
        }
        for setting in kafkaSetting {
            guard let eq = setting.firstIndex(of: "="), eq != setting.startIndex else {
                throw ValidationError("--kafka-setting: \"\(setting)\" is not KEY=VALUE")
            }
            options.consumerSettings[String(setting[..<eq])] = String(setting[setting.index(after: eq)...])
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: unknown level \"\(logLevel)\"")
        }
        logFormat.bootstrap()
        var logger = Logger(label: "odl.serve")
        logger.logLevel = level

        let server: ProcessorServer
        do {
            server = try ProcessorServer(options: options, logger: logger)
        } catch {
            logger.critical("cannot start: \(error.description)")
            throw ExitCode.failure
        }
        try await server.run { host, port in
            // Unbuffered write: tests and scripts wait for this line.
            FileHandle.standardOutput.write(Data("listening: http://\(host):\(port)\n".utf8))
        }
    }
}
