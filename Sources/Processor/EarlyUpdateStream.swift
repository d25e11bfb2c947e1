import Export
import Foundation
import Logging

/// A processor's update stream, made from the export's manifest before the base tables load.
///
/// ``ProcessorServer/init(options:logger:)`` makes and starts it as soon as the manifest is
/// read: the Kafka stream connects, assigns its partitions and fetches while the tables load
/// (the fs stream lists its folder and reads ahead), holding what it got behind a closed
/// ``ApplierLatch``. Once the store is complete the server opens the latch with its applier;
/// the stream then applies what it held, in arrival order, and goes on as usual. The result is
/// the same as starting the stream after the load: every message is applied once, in offset
/// order (the stream's own position check drops re-deliveries).
final class EarlyUpdateStream: Sendable {
    let source: UpdateSource
    let metrics: ProcessorMetrics
    let state: UpdateStreamState
    let latch: ApplierLatch
    /// The stream's service; nil without an update source.
    let service: UpdateStreamService?
    /// The Kafka stream, when the source is Kafka.
    let kafka: KafkaUpdateStream?

    /// Resolves the source from the options and the manifest; starts nothing.
    init(options: ServeOptions, manifest: ExportManifest, logger: Logger) throws(ServeError) {
        source = try UpdateSource.resolve(options: options, manifest: manifest)
        metrics = ProcessorMetrics()
        state = UpdateStreamState(mode: source.modeName, source: source.description, metrics: metrics,
                                  pairingWindow: options.pairingWindow, checkPairing: options.checkPairing)
        latch = ApplierLatch()
        switch source {
        case .none:
            kafka = nil
            service = nil
        case .kafka(let settings):
            let k = KafkaUpdateStream(settings: settings, latch: latch, state: state, logger: logger)
            kafka = k
            service = UpdateStreamService(source: .kafka(k), logger: logger)
        case .fs(let dir):
            kafka = nil
            service = UpdateStreamService(source: .fs(FSUpdateStream(directory: dir, latch: latch, state: state, logger: logger)),
                                          logger: logger)
        }
    }

    /// Start fetching (nothing is applied before the latch opens).
    func start() { service?.start() }

    /// The load failed: stop the stream thread (it closes its consumer on its own).
    func abandon() { service?.requestStop() }
}
