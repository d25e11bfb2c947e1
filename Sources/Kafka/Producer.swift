import CRdKafka
import Foundation
import Synchronization

/// A Kafka producer. `send` completes only on the broker's delivery report; a dedicated thread
/// serves librdkafka's delivery callbacks. Thread-safe; `close()` (or deinit) flushes first.
public final class Producer: Sendable {
    private let handle: ClientHandle
    private let config: ProducerConfig
    private let poller: PollThread

    public init(_ config: ProducerConfig) throws(KafkaError) {
        let conf = try KafkaConf.make(config.librdkafkaSettings, operation: "producer config")
        rd_kafka_conf_set_dr_msg_cb(conf, producerDeliveryReport)
        let rk = try KafkaConf.newHandle(RD_KAFKA_PRODUCER, conf, operation: "producer create")
        handle = ClientHandle(rk)
        self.config = config
        poller = PollThread(handle: handle, name: "kafka-producer-poll")
    }

    /// A producer with default settings plus raw librdkafka `settings`.
    public convenience init(bootstrap: String, settings: [String: String] = [:]) throws(KafkaError) {
        try self.init(ProducerConfig(bootstrap: bootstrap, settings: settings))
    }

    deinit { close() }

    /// Sends one message and waits (suspending) for the broker's acknowledgement.
    /// `partition` nil lets the partitioner choose; `timestamp` is ms since the epoch (nil: now).
    public func send(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8],
                     headers: [KafkaHeader] = [], timestamp: Int64? = nil) async throws(KafkaError) -> DeliveryReport {
        let deadline = ContinuousClock.now + .milliseconds(config.deliveryTimeoutMs)
        while true {
            let result: Result<DeliveryReport, KafkaError> = await withCheckedContinuation { cont in
                let waiter = DeliveryWaiter(topic: topic) { cont.resume(returning: $0) }
                if let err = enqueue(topic: topic, partition: partition, key: key, value: value,
                                     headers: headers, timestamp: timestamp, waiter: waiter) {
                    cont.resume(returning: .failure(err))
                }
            }
            if case .failure(let e) = result, e.operation == "produce",
               e.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            return try result.get()
        }
    }

    /// Blocking `send` for code running on its own thread (never call it on the Swift
    /// concurrency pool). Returns after the broker's acknowledgement or throws.
    public func sendSync(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8],
                         headers: [KafkaHeader] = [], timestamp: Int64? = nil) throws(KafkaError) -> DeliveryReport {
        let deadline = ContinuousClock.now + .milliseconds(config.deliveryTimeoutMs)
        while true {
            let slot = ResultSlot()
            let waiter = DeliveryWaiter(topic: topic) { slot.fill($0) }
            if let err = enqueue(topic: topic, partition: partition, key: key, value: value,
                                 headers: headers, timestamp: timestamp, waiter: waiter) {
                if err.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue, ContinuousClock.now < deadline {
                    usleep(5000)
                    continue
                }
                throw err
            }
            return try slot.wait().get()
        }
    }

    /// Waits until every outstanding message is acknowledged (or failed); throws `_TIMED_OUT`
    /// if some are still pending after `timeout`.
    public func flush(timeout: Duration) throws(KafkaError) {
        let err = try handle.use("flush") { rk in rd_kafka_flush(rk, Int32(timeout.kafkaMilliseconds)) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, operation: "flush", message: "\(outstanding) message(s) still outstanding after \(timeout)")
        }
    }

    /// Messages not yet acknowledged.
    public var outstanding: Int {
        (try? handle.use("outq") { rk in Int(rd_kafka_outq_len(rk)) }) ?? 0
    }

    /// Flushes (up to `timeout`), fails whatever is still pending (those sends throw `_PURGE_QUEUE`
    /// or `_PURGE_INFLIGHT`), stops the poll thread and destroys the client. Idempotent.
    public func close(timeout: Duration = .seconds(30)) {
        let poller = self.poller
        handle.shutdown { rk in
            if rd_kafka_flush(rk, timeout.kafkaMilliseconds) != RD_KAFKA_RESP_ERR_NO_ERROR {
                _ = rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                _ = rd_kafka_flush(rk, 2000)
            }
            poller.stop()
            _ = rd_kafka_poll(rk, 0)
            rd_kafka_destroy(rk)
        }
    }

    /// Hands one message to librdkafka; on failure releases the waiter and returns the error.
    private func enqueue(topic: String, partition: Int32?, key: [UInt8]?, value: [UInt8],
                         headers: [KafkaHeader], timestamp: Int64?, waiter: DeliveryWaiter) -> KafkaError? {
        do {
            return try handle.use("produce", topic: topic) { rk -> KafkaError? in
                var hdrs: OpaquePointer?
                if !headers.isEmpty {
                    hdrs = rd_kafka_headers_new(headers.count)
                    for h in headers {
                        if let v = h.value {
                            _ = v.withUnsafeBytes { rd_kafka_header_add(hdrs, h.key, -1, $0.baseAddress, $0.count) }
                        } else {
                            _ = rd_kafka_header_add(hdrs, h.key, -1, nil, 0)
                        }
                    }
                }
                let opaque = Unmanaged.passRetained(waiter).toOpaque()
                let err: rd_kafka_resp_err_t = value.withUnsafeBytes { v in
                    withOptionalBytes(key) { k in
                        swift_rdk_produce_full(rk, topic, partition ?? -1, k.baseAddress, k.count,
                                               v.baseAddress, v.count, hdrs, timestamp ?? 0, opaque)
                    }
                }
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { return nil }
                Unmanaged<DeliveryWaiter>.fromOpaque(opaque).release()
                if let hdrs { rd_kafka_headers_destroy(hdrs) }
                return KafkaError(err, operation: "produce", topic: topic, partition: partition)
            }
        } catch {
            return error
        }
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
}

/// Per-message context travelling through librdkafka's msg_opaque (retained at produce,
/// released in the delivery callback or on a synchronous produce error).
final class DeliveryWaiter: Sendable {
    let topic: String
    let complete: @Sendable (Result<DeliveryReport, KafkaError>) -> Void

    init(topic: String, complete: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.topic = topic
        self.complete = complete
    }
}

/// A one-shot result a blocking caller waits for.
final class ResultSlot: Sendable {
    private let value = Mutex<Result<DeliveryReport, KafkaError>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func fill(_ r: Result<DeliveryReport, KafkaError>) {
        value.withLock { $0 = r }
        ready.signal()
    }

    func wait() -> Result<DeliveryReport, KafkaError> {
        ready.wait()
        return value.withLock { $0 } ?? .failure(KafkaError.closed("delivery"))
    }
}

/// librdkafka delivery-report callback (runs on the poll thread, or inside flush).
private func producerDeliveryReport(_ rk: OpaquePointer?, _ msg: UnsafePointer<rd_kafka_message_t>?,
                                    _ opaque: UnsafeMutableRawPointer?) {
    guard let msg, let ctx = msg.pointee._private else { return }
    let waiter = Unmanaged<DeliveryWaiter>.fromOpaque(ctx).takeRetainedValue()
    let m = msg.pointee
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(msg, &tsType)
        waiter.complete(.success(DeliveryReport(topic: waiter.topic, partition: m.partition, offset: m.offset,
                                                timestamp: ts >= 0 ? ts : nil)))
    } else {
        waiter.complete(.failure(KafkaError(m.err, operation: "delivery", topic: waiter.topic,
                                            partition: m.partition >= 0 ? m.partition : nil)))
    }
}
