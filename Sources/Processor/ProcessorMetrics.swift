import CoreMetrics
import Prometheus

/// The processor's metrics, emitted through swift-metrics into its own Prometheus registry
/// (one per processor, so several processors can live in one test process).
public final class ProcessorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    let itemsScored: CoreMetrics.Counter
    let requestLatency: CoreMetrics.Timer
    let updateMessagesApplied: CoreMetrics.Counter
    let updateMessagesRejected: CoreMetrics.Counter
    let updateRowsApplied: CoreMetrics.Counter
    let updateRowsRejected: CoreMetrics.Counter
    let updateGaps: CoreMetrics.Counter
    let freshness: CoreMetrics.Recorder
    let denseStep: CoreMetrics.Gauge
    let sparseStep: CoreMetrics.Gauge
    let inFlight: CoreMetrics.Gauge
    /// Connections closed with 408 because a request was not received within the read timeout.
    let readTimeouts: CoreMetrics.Counter
    let itemRows: CoreMetrics.Gauge
    let itemRefreshSeconds: CoreMetrics.Timer
    let itemRefreshErrors: CoreMetrics.Counter
    let itemRowsSkipped: CoreMetrics.Counter
    /// Resident set sampled by the memory budget guard, and its releases of mapped tables.
    let residentBytes: CoreMetrics.Gauge
    let memoryBudgetReleases: CoreMetrics.Counter

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["odl_predict_latency_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory.valueHistogramBuckets["odl_update_freshness_seconds"] = [
            0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600,
        ]
        factory.durationHistogramBuckets["odl_item_refresh_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500),
            .seconds(1), .seconds(5), .seconds(30), .seconds(120),
        ]
        self.factory = factory
        itemsScored = CoreMetrics.Counter(label: "odl_predict_items_total", factory: factory)
        requestLatency = CoreMetrics.Timer(label: "odl_predict_latency_seconds", factory: factory)
        updateMessagesApplied = CoreMetrics.Counter(label: "odl_update_messages_total", dimensions: [("result", "applied")], factory: factory)
        updateMessagesRejected = CoreMetrics.Counter(label: "odl_update_messages_total", dimensions: [("result", "rejected")], factory: factory)
        updateRowsApplied = CoreMetrics.Counter(label: "odl_update_rows_total", dimensions: [("result", "applied")], factory: factory)
        updateRowsRejected = CoreMetrics.Counter(label: "odl_update_rows_total", dimensions: [("result", "rejected")], factory: factory)
        updateGaps = CoreMetrics.Counter(label: "odl_update_gaps_total", factory: factory)
        freshness = CoreMetrics.Recorder(label: "odl_update_freshness_seconds", factory: factory)
        denseStep = CoreMetrics.Gauge(label: "odl_model_dense_step", factory: factory)
        sparseStep = CoreMetrics.Gauge(label: "odl_model_sparse_step", factory: factory)
        inFlight = CoreMetrics.Gauge(label: "odl_predict_in_flight", factory: factory)
        readTimeouts = CoreMetrics.Counter(label: "odl_http_read_timeouts_total", factory: factory)
        itemRows = CoreMetrics.Gauge(label: "odl_item_rows", factory: factory)
        itemRefreshSeconds = CoreMetrics.Timer(label: "odl_item_refresh_seconds", factory: factory)
        itemRefreshErrors = CoreMetrics.Counter(label: "odl_item_refresh_errors_total", factory: factory)
        itemRowsSkipped = CoreMetrics.Counter(label: "odl_item_rows_skipped_total", factory: factory)
        residentBytes = CoreMetrics.Gauge(label: "odl_resident_bytes", factory: factory)
        memoryBudgetReleases = CoreMetrics.Counter(label: "odl_memory_budget_releases_total", factory: factory)
    }

    /// Count one answered predict call by path kind and HTTP status.
    func countRequest(status: Int) {
        CoreMetrics.Counter(label: "odl_predict_requests_total", dimensions: [("code", String(status))], factory: factory).increment()
    }

    /// Lag (end offset minus next offset to apply) of one update partition.
    func setLag(topic: String, partition: Int32, lag: Int64) {
        CoreMetrics.Gauge(label: "odl_update_lag_messages", dimensions: [("topic", topic), ("partition", String(partition))],
              factory: factory).record(lag)
    }

    /// Prometheus text exposition format.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
