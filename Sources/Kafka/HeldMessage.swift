import CRdKafka

/// A consumed message kept in librdkafka's fetch buffer instead of being copied: its key and
/// value stay valid until the holder is released (deinit destroys the message).
///
/// Not Sendable: it belongs to the thread that polled it. Release every held message before
/// closing its consumer (librdkafka requires all messages destroyed before the client is).
public final class HeldMessage {
    private let m: UnsafeMutablePointer<rd_kafka_message_t>
    /// Bytes of key and value held.
    public let byteCount: Int

    init(_ m: UnsafeMutablePointer<rd_kafka_message_t>) {
        self.m = m
        byteCount = m.pointee.len + m.pointee.key_len
    }

    deinit { rd_kafka_message_destroy(m) }

    /// The message, borrowing this holder's bytes: use it only while `self` is alive.
    public var message: BorrowedMessage { BorrowedMessage(m) }
}

extension Consumer {
    /// Like ``poll(maxMessages:timeout:messages:)``, but hands each message over as a
    /// ``HeldMessage`` the caller may keep (no copy of its bytes); returns the other events
    /// (partition ends, errors) in order. Keeping messages lets librdkafka fetch further: its
    /// queue limit (queued.max.messages.kbytes) counts only messages not yet polled, so the
    /// caller bounds what it holds.
    public func pollHolding(maxMessages: Int, timeout: Duration, _ holding: (HeldMessage) -> Void) -> [ConsumerEvent] {
        var other: [ConsumerEvent] = []
        do {
            try handle.use("poll") { rk in
                var wait = Int32(timeout.kafkaMilliseconds)
                var taken = 0
                while taken < maxMessages {
                    guard let m = rd_kafka_consumer_poll(rk, wait) else { break }
                    wait = 0
                    taken += 1
                    if m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        holding(HeldMessage(m))
                    } else {
                        other.append(MessageDecoding.event(m))
                        rd_kafka_message_destroy(m)
                    }
                }
            }
        } catch {
            other.append(.error(error))
        }
        return other
    }
}
