import CRdKafka

/// Outcome of `Admin.createTopic`.
public enum TopicCreation: Sendable, Equatable {
    case created
    case alreadyExists
    /// The broker did not answer in time or does not implement CreateTopics (the embedded broker
    /// times out "waiting for controller" — it auto-creates topics, so callers may ignore this).
    case unsupported(KafkaError)
}

/// Topic administration through the Kafka admin API. Every call is bounded by its timeout.
public final class Admin: Sendable {
    private let handle: ClientHandle

    public init(bootstrap: String, settings: [String: String] = [:]) throws(KafkaError) {
        let conf = try KafkaConf.make(KafkaConf.merge([("bootstrap.servers", bootstrap),
                                                       ("log.connection.close", "false")], settings),
                                      operation: "admin config")
        handle = ClientHandle(try KafkaConf.newHandle(RD_KAFKA_PRODUCER, conf, operation: "admin create"))
    }

    deinit { close() }

    /// Whether the cluster lists `name`, from a metadata request for all topics (which, unlike a
    /// request for one topic, never makes an auto-creating broker create it).
    public func topicExists(_ name: String, timeout: Duration = .seconds(5)) throws(KafkaError) -> Bool {
        try handle.use("metadata", topic: name) { rk throws(KafkaError) -> Bool in
            var md: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk, 1, nil, &md, Int32(timeout.kafkaMilliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(err, operation: "metadata", topic: name) }
            defer { rd_kafka_metadata_destroy(md) }
            guard let topics = md.pointee.topics else { return false }
            for i in 0..<Int(md.pointee.topic_cnt) where topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR {
                if let t = topics[i].topic, String(cString: t) == name { return true }
            }
            return false
        }
    }

    /// Creates `name` with the topic `config` (e.g. `max.message.bytes`); an existing topic counts
    /// as success (`.alreadyExists`).
    public func createTopic(name: String, partitions: Int, replication: Int = 1, config: [String: String] = [:],
                            timeout: Duration = .seconds(5)) throws(KafkaError) -> TopicCreation {
        guard partitions > 0, replication > 0 else {
            throw KafkaError.invalid("partitions (\(partitions)) and replication (\(replication)) must be > 0",
                                     operation: "createTopic", topic: name)
        }
        let ms = timeout.kafkaMilliseconds
        return try handle.use("createTopic", topic: name) { rk throws(KafkaError) -> TopicCreation in
            var errstr = [CChar](repeating: 0, count: 512)
            guard let newTopic = rd_kafka_NewTopic_new(name, Int32(clamping: partitions), Int32(clamping: replication),
                                                       &errstr, errstr.count) else {
                throw KafkaError.invalid(cString(errstr), operation: "createTopic", topic: name)
            }
            defer { rd_kafka_NewTopic_destroy(newTopic) }
            for (key, value) in config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(newTopic, key, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(err, operation: "createTopic", message: "topic config \(key)=\(value)", topic: name)
                }
            }
            guard let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS) else {
                throw KafkaError.invalid("AdminOptions_new failed", operation: "createTopic", topic: name)
            }
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_request_timeout(options, ms, &errstr, errstr.count)
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, ms, &errstr, errstr.count)
            guard let queue = rd_kafka_queue_new(rk) else {
                throw KafkaError.invalid("queue_new failed", operation: "createTopic", topic: name)
            }
            defer { rd_kafka_queue_destroy(queue) }
            var topics: [OpaquePointer?] = [newTopic]
            rd_kafka_CreateTopics(rk, &topics, 1, options, queue)
            guard let event = rd_kafka_queue_poll(queue, ms &+ 2000) else {
                return .unsupported(KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, operation: "createTopic",
                                               message: "no answer within \(timeout)", topic: name))
            }
            defer { rd_kafka_event_destroy(event) }
            let evErr = rd_kafka_event_error(event)
            if evErr != RD_KAFKA_RESP_ERR_NO_ERROR {
                let text = rd_kafka_event_error_string(event).map { String(cString: $0) }
                let error = KafkaError(evErr, operation: "createTopic", message: text, topic: name)
                if error.isTimedOut || evErr == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION { return .unsupported(error) }
                throw error
            }
            guard let result = rd_kafka_event_CreateTopics_result(event) else {
                throw KafkaError.invalid("unexpected admin event", operation: "createTopic", topic: name)
            }
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0,
                  let first = results[0] else {
                throw KafkaError.invalid("empty CreateTopics result", operation: "createTopic", topic: name)
            }
            let err = rd_kafka_topic_result_error(first)
            let text = rd_kafka_topic_result_error_string(first).map { String(cString: $0) }
            switch err {
            case RD_KAFKA_RESP_ERR_NO_ERROR: return .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: return .alreadyExists
            case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
                return .unsupported(KafkaError(err, operation: "createTopic", message: text, topic: name))
            default:
                throw KafkaError(err, operation: "createTopic", message: text, topic: name)
            }
        }
    }

    /// Deletes `name` (DeleteTopics); a topic that does not exist is an error naming it.
    public func deleteTopic(name: String, timeout: Duration = .seconds(5)) throws(KafkaError) {
        let ms = timeout.kafkaMilliseconds
        try handle.use("deleteTopic", topic: name) { rk throws(KafkaError) in
            guard let del = rd_kafka_DeleteTopic_new(name) else {
                throw KafkaError.invalid("DeleteTopic_new failed", operation: "deleteTopic", topic: name)
            }
            defer { rd_kafka_DeleteTopic_destroy(del) }
            guard let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS),
                  let queue = rd_kafka_queue_new(rk) else {
                throw KafkaError.invalid("admin options or queue allocation failed", operation: "deleteTopic", topic: name)
            }
            defer { rd_kafka_AdminOptions_destroy(options); rd_kafka_queue_destroy(queue) }
            var errstr = [CChar](repeating: 0, count: 512)
            _ = rd_kafka_AdminOptions_set_request_timeout(options, ms, &errstr, errstr.count)
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, ms, &errstr, errstr.count)
            var topics: [OpaquePointer?] = [del]
            rd_kafka_DeleteTopics(rk, &topics, 1, options, queue)
            guard let event = rd_kafka_queue_poll(queue, ms &+ 2000) else {
                throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, operation: "deleteTopic", message: "no answer within \(timeout)", topic: name)
            }
            defer { rd_kafka_event_destroy(event) }
            let evErr = rd_kafka_event_error(event)
            if evErr != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(evErr, operation: "deleteTopic", message: rd_kafka_event_error_string(event).map { String(cString: $0) }, topic: name)
            }
            var count = 0
            guard let result = rd_kafka_event_DeleteTopics_result(event),
                  let results = rd_kafka_DeleteTopics_result_topics(result, &count), count > 0, let first = results[0] else {
                throw KafkaError.invalid("empty DeleteTopics result", operation: "deleteTopic", topic: name)
            }
            let err = rd_kafka_topic_result_error(first)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(err, operation: "deleteTopic", message: rd_kafka_topic_result_error_string(first).map { String(cString: $0) }, topic: name)
            }
        }
    }

    /// Destroys the client. Idempotent.
    public func close() {
        handle.shutdown { rk in rd_kafka_destroy(rk) }
    }
}
