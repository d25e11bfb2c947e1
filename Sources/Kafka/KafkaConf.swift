import CRdKafka

/// Builds an `rd_kafka_conf_t` from key=value settings (applied in order; later wins).
enum KafkaConf {
    /// Returns a new conf the caller owns (pass it to rd_kafka_new or rd_kafka_conf_destroy it).
    static func make(_ settings: [(String, String)], operation: String) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError.invalid("rd_kafka_conf_new failed", operation: operation)
        }
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in settings {
            let rc = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if rc != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError.invalid("setting \(key)=\(value): \(cString(errstr))", operation: operation)
            }
        }
        return conf
    }

    /// Creates a client handle; consumes `conf` on success, destroys it on failure.
    static func newHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer, operation: String) throws(KafkaError) -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.invalid("rd_kafka_new: \(cString(errstr))", operation: operation)
        }
        return rk
    }

    /// Merges user settings over defaults, defaults first, user keys sorted for determinism.
    static func merge(_ defaults: [(String, String)], _ user: [String: String]) -> [(String, String)] {
        defaults.filter { user[$0.0] == nil } + user.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// A NUL-terminated C char buffer as a String.
func cString(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
