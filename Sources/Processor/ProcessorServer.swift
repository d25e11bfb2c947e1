import Export
import Foundation
import Hummingbird
import HummingbirdCore
import Inference
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Where updates come from, resolved from the options and the export.
public enum UpdateSource: Sendable, Equatable {
    case none(reason: String)
    case kafka(KafkaStreamSettings)
    case fs(directory: String)

    /// Options win over the export's kafka.txt / incr_update.txt.
    public static func resolve(options: ServeOptions, manifest: ExportManifest) throws(ServeError) -> UpdateSource {
        if options.noUpdates { return .none(reason: "--no-updates") }
        if let dir = options.incrSaveDir { return .fs(directory: dir) }
        var kafka = manifest.kafka
        if kafka == nil, case .kafka(let k)? = manifest.incrUpdate { kafka = k }
        if kafka == nil, options.kafkaServer == nil, options.topic == nil {
            if case .fs(let dir)? = manifest.incrUpdate { return .fs(directory: dir) }
            return .none(reason: "the export names no update stream (no kafka.txt / incr_update.txt) and no --kafka-server/--topic")
        }
        guard let server = options.kafkaServer ?? kafka?.server, !server.isEmpty else {
            throw ServeError("no Kafka server: give --kafka-server (the export's kafka.txt has none)")
        }
        guard let topic = options.topic ?? kafka?.topic, !topic.isEmpty else {
            throw ServeError("no update topic: give --topic (the export's kafka.txt has none)")
        }
        var settings = KafkaStreamSettings(bootstrap: server, topic: topic, partitions: options.partitions,
                                           defaultStartOffset: kafka?.offset ?? 0, startOffsets: kafka?.offsets ?? [:],
                                           consumerSettings: options.consumerSettings)
        if let text = options.startOffset {
            let parsed = try ServeOptions.parseStartOffset(text)
            if let all = parsed.all {
                settings.defaultStartOffset = all
                settings.startOffsets = [:]
            } else {
                settings.startOffsets = parsed.perPartition
                if settings.partitions == nil { settings.partitions = parsed.perPartition.keys.sorted() }
            }
        }
        return .kafka(settings)
    }

    var modeName: String {
        switch self {
        case .none: return "none"
        case .kafka: return "kafka"
        case .fs: return "fs"
        }
    }

    var description: String? {
        switch self {
        case .none(let reason): return reason
        case .kafka(let k): return "\(k.bootstrap)/\(k.topic)"
        case .fs(let dir): return dir
        }
    }
}

/// One running processor: the model, the update stream and the HTTP server.
public final class ProcessorServer: Sendable {
    public let options: ServeOptions
    public let model: LoadedModel
    public let source: UpdateSource
    public let metrics: ProcessorMetrics
    public let state: UpdateStreamState
    let scorer: ModelScorer
    /// What answers predict calls: `scorer`, or the ceiling peer with `options.ceiling`.
    let handler: any PredictHandling
    let pool: NIOThreadPool
    let stream: UpdateStreamService?
    let reporter: StatusReporter
    let logger: Logger
    /// The resident-memory guard (nil without --memory-budget).
    let budget: MemoryBudget?
    /// Item feature cache and its source (nil without --item-source / --item-table).
    let items: ItemFeatures?

    /// Load the model and item table, resolve the update source. The update stream starts
    /// fetching as soon as the export's manifest is read, while the tables load; it applies
    /// nothing before the store is complete (``EarlyUpdateStream``). Nothing else runs yet.
    public convenience init(options: ServeOptions, logger: Logger) throws(ServeError) {
        let started = ContinuousClock.now
        let sortedMin = options.sortedKVMinRows ?? (options.memoryBudget != nil ? 0 : ExportReader.defaultSortedKVMinRows)
        var early: EarlyUpdateStream?
        let model: LoadedModel
        do {
            model = try LoadedModel.load(path: options.model, embeddingDir: options.embeddingDir, limits: options.limits,
                                         sortedKVMinRows: sortedMin, releaseMappedAfterUse: options.memoryBudget != nil,
                                         embeddingDType: options.embeddingDType,
                                         onManifest: { (manifest) throws(ServeError) in
                                             let stream = try EarlyUpdateStream(options: options, manifest: manifest, logger: logger)
                                             stream.start()
                                             early = stream
                                         })
        } catch {
            early?.abandon()
            throw error
        }
        do {
            try self.init(model: model, options: options, logger: logger, early: early)
        } catch {
            early?.abandon()
            throw error
        }
        logger.info("model loaded", metadata: [
            "path": "\(model.versionDir)", "features": "\(model.store.spec.columns.count)",
            "tables": "\(model.store.spec.embeddings.count)", "updates": "\(source.description ?? "")",
            "seconds": "\(Self.seconds(ContinuousClock.now - started))", "simd": "\(SIMDLevel.current.rawValue)",
            "embedding_dtype": "\(model.store.embeddingDType)", "table_bytes": "\(model.store.tableBytes)",
        ])
    }

    /// Serve an already loaded model (`options.model` is then only reported).
    public convenience init(model: LoadedModel, options: ServeOptions, logger: Logger) throws(ServeError) {
        try self.init(model: model, options: options, logger: logger, early: nil)
    }

    /// Serve a loaded model with the update stream `early` made from its manifest (already
    /// fetching, latch closed), or a new one (started by `run`); opens the stream's latch.
    init(model: LoadedModel, options: ServeOptions, logger: Logger, early given: EarlyUpdateStream?) throws(ServeError) {
        self.options = options
        self.logger = logger
        self.model = model
        let early: EarlyUpdateStream
        if let given { early = given } else { early = try EarlyUpdateStream(options: options, manifest: model.manifest, logger: logger) }
        source = early.source
        if options.kvReserveRows > 0 {
            let t0 = ContinuousClock.now
            let bytes = model.store.reserveKeyValueRows(options.kvReserveRows)
            logger.info("key-value room reserved", metadata: [
                "rows_per_table": "\(options.kvReserveRows)", "bytes": "\(bytes)", "seconds": "\(Self.seconds(ContinuousClock.now - t0))",
            ])
        }
        metrics = early.metrics
        state = early.state
        items = try ItemFeatures.make(options: options, mode: model.mode, metrics: metrics, logger: logger)
        pool = NIOThreadPool(numberOfThreads: max(1, options.workerThreads))
        do {
            scorer = try ModelScorer(store: model.store, mode: model.mode, items: items?.store, outputs: options.outputs,
                                     limits: options.limits, offloadItems: options.offloadItems, pool: pool,
                                     nonFinite: options.nonFiniteFeatures)
        } catch {
            throw ServeError("\(model.versionDir): \(error.description)")
        }
        handler = options.ceiling ? CeilingPredictor(outputs: options.outputs, limits: options.limits) : scorer
        let applier = UpdateApplier(store: model.store, options: UpdateOptions(allowNonFinite: options.allowNonFinite),
                                    state: state, logger: logger)
        stream = early.service
        let metrics = metrics
        budget = options.memoryBudget.map { MemoryBudget(budgetBytes: $0, store: model.store, metrics: metrics, logger: logger) }
        reporter = StatusReporter(model: model, state: state, items: items?.state, serviceName: options.serviceName,
                                  started: Date(), budget: budget)
        // The store is complete: fault the mapped tables in for writes alongside the first
        // updates, and let the stream apply (what it fetched meanwhile first).
        TablePrefault.start(store: model.store, source: source, memoryBudget: options.memoryBudget, logger: logger)
        early.latch.open(applier)
    }

    private let running = Mutex<(group: ServiceGroup?, stopRequested: Bool)>((nil, false))

    /// Graceful shutdown, as on SIGTERM: stop accepting, let in-flight requests finish, close the consumer.
    public func shutdown() async {
        let group = running.withLock { r -> ServiceGroup? in
            r.stopRequested = true
            return r.group
        }
        await group?.triggerGracefulShutdown()
    }

    /// Serve until SIGTERM/SIGINT (graceful: in-flight requests finish, the consumer closes).
    /// `onListening` gets the bound host and port once the socket is open.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void) async throws {
        pool.start()
        budget?.start()
        defer { budget?.shutdown() }
        stream?.start()
        items?.source?.start()
        defer { items?.source?.stop() }
        let responder = ProcessorResponder(handler: handler, operations: reporter,
                                           settings: HTTPSettings(limits: options.limits, token: options.token,
                                                                  serviceName: options.serviceName,
                                                                  protectOps: options.protectOps),
                                           metrics: metrics)
        let host = options.host
        if let warning = Self.exposureWarning(host: host, token: options.token) { logger.warning("\(warning)") }
        let metrics = metrics
        let http1 = HTTP1Channel.Configuration(idleTimeout: .nanoseconds(Int64(options.idleTimeout * 1e9)))
        let readTimeout = TimeAmount.nanoseconds(Int64(options.readTimeout * 1e9))
        let server = HTTPServerBuilder { handler in
            ReadTimeoutHTTP1Channel(responder: handler, configuration: http1, readTimeout: readTimeout,
                                    onTimeout: { metrics.readTimeouts.increment() })
        }
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: options.port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections, logger: logger)),
            services: stream.map { [$0] } ?? [],
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        let stopEarly = running.withLock { r -> Bool in
            if r.stopRequested { return true }
            r.group = group
            return false
        }
        if stopEarly { return }
        do {
            try await group.run()
        } catch {
            await stream?.shutdown()
            try? await pool.shutdownGracefully()
            throw error
        }
        await stream?.shutdown()
        try? await pool.shutdownGracefully()
    }

    /// A duration as plain seconds with millisecond precision, for log fields named `seconds`.
    static func seconds(_ d: Duration) -> String {
        let (s, a) = d.components
        return String(format: "%.3f", Double(s) + Double(a) / 1e18)
    }

    /// The start-up warning for a processor open to every interface without a token; nil otherwise.
    static func exposureWarning(host: String, token: String?) -> String? {
        guard token == nil, listensOnAllInterfaces(host) else { return nil }
        return "WARNING: listening on all interfaces (\(host)) with no --token: anyone who can reach this machine can call predict and read /status; give --token or --host 127.0.0.1"
    }

    /// True for the wildcard addresses (every interface).
    static func listensOnAllInterfaces(_ host: String) -> Bool {
        ["0.0.0.0", "::", "[::]", "*", ""].contains(host)
    }
}
