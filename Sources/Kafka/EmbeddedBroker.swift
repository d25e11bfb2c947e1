import CRdKafka

/// An in-process Kafka-protocol broker (librdkafka's mock cluster): real TCP on 127.0.0.1, for
/// tests and local use. Limits: see the project README (no persistence, ~5 MiB per partition,
/// no CreateTopics, no ListOffsets by timestamp).
public final class EmbeddedBroker: Sendable {
    /// "127.0.0.1:PORT[,127.0.0.1:PORT...]".
    public let bootstrap: String
    /// The mock brokers' ids (1...N).
    public let brokerIDs: [Int32]
    private let handle: ClientHandle
    private let cluster: MockCluster

    /// Starts `brokers` brokers.
    public init(brokers: Int = 1) throws(KafkaError) {
        guard brokers >= 1 else { throw KafkaError.invalid("brokers must be >= 1, got \(brokers)", operation: "broker") }
        // The owning handle never connects anywhere; keep it quiet about having no bootstrap.
        let conf = try KafkaConf.make([("log_level", "3")], operation: "broker config")
        let rk = try KafkaConf.newHandle(RD_KAFKA_PRODUCER, conf, operation: "broker create")
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(clamping: brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError.invalid("rd_kafka_mock_cluster_new failed", operation: "broker")
        }
        handle = ClientHandle(rk)
        cluster = MockCluster(mc)
        bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(mc))
        brokerIDs = (1...Int32(clamping: brokers)).map { $0 }
    }

    deinit { close() }

    /// Creates a topic with `partitions` partitions (topics also auto-create with 4 on first use).
    public func createTopic(name: String, partitions: Int, replication: Int = 1) throws(KafkaError) {
        guard partitions > 0, replication > 0, replication <= brokerIDs.count else {
            throw KafkaError.invalid("partitions \(partitions), replication \(replication) (brokers: \(brokerIDs.count))",
                                     operation: "broker createTopic", topic: name)
        }
        let err = try handle.use("broker createTopic", topic: name) { _ in
            rd_kafka_mock_topic_create(cluster.mc, name, Int32(clamping: partitions), Int32(clamping: replication))
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "broker createTopic", topic: name) }
    }

    /// Takes broker `id` offline: its connections close and it refuses requests; data is kept.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) {
        try setBroker(id, down: true)
    }

    /// Brings broker `id` back.
    public func setBrokerUp(_ id: Int32) throws(KafkaError) {
        try setBroker(id, down: false)
    }

    /// Sets every broker down (or up).
    public func setAllBrokers(down: Bool) throws(KafkaError) {
        for id in brokerIDs { try setBroker(id, down: down) }
    }

    private func setBroker(_ id: Int32, down: Bool) throws(KafkaError) {
        guard brokerIDs.contains(id) else {
            throw KafkaError.invalid("no broker \(id) (ids \(brokerIDs))", operation: down ? "broker down" : "broker up")
        }
        let err = try handle.use(down ? "broker down" : "broker up") { _ in
            down ? rd_kafka_mock_broker_set_down(cluster.mc, id) : rd_kafka_mock_broker_set_up(cluster.mc, id)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: down ? "broker down" : "broker up") }
    }

    /// Stops the brokers and frees everything. Idempotent.
    public func close() {
        let cluster = self.cluster
        handle.shutdown { rk in
            rd_kafka_mock_cluster_destroy(cluster.mc)
            rd_kafka_destroy(rk)
        }
    }
}

/// The mock cluster pointer. `@unchecked Sendable` is sound: librdkafka's mock API forwards every
/// call (topic_create, broker_set_down/up) as an op to the cluster's own thread, so concurrent
/// calls are safe, and `EmbeddedBroker` destroys it only through `ClientHandle.shutdown`, after
/// all calls have finished.
final class MockCluster: @unchecked Sendable {
    let mc: OpaquePointer
    init(_ mc: OpaquePointer) { self.mc = mc }
}
