#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* rd_kafka_producev() is variadic (Swift cannot call it): one typed entry point.
   partition: RD_KAFKA_PARTITION_UA for the partitioner; timestamp_ms: 0 = now.
   headers: may be NULL; on success librdkafka owns them, on error the caller must
   rd_kafka_headers_destroy() them. The payload and key are copied (RD_KAFKA_MSG_F_COPY). */
static inline rd_kafka_resp_err_t
swift_rdk_produce_full(rd_kafka_t *rk, const char *topic, int32_t partition,
                       const void *key, size_t keylen,
                       const void *payload, size_t len,
                       rd_kafka_headers_t *headers, int64_t timestamp_ms,
                       void *msg_opaque) {
    if (headers != NULL) {
        return rd_kafka_producev(rk,
            RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, keylen),
            RD_KAFKA_V_VALUE((void *)payload, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(timestamp_ms),
            RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_OPAQUE(msg_opaque),
            RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk,
        RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key, keylen),
        RD_KAFKA_V_VALUE((void *)payload, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms),
        RD_KAFKA_V_OPAQUE(msg_opaque),
        RD_KAFKA_V_END);
}
#endif
