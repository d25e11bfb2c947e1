import CCurl
import Foundation

/// One blocking HTTP exchange over libcurl (call it from a dedicated thread, never the
/// cooperative pool). Status 0 means no response (connection refused, timeout, ...).
struct CurlTransport: Sendable {
    var timeoutSeconds: Int

    struct Response {
        var status: Int
        var body: [UInt8]
        /// curl's error text when there was no response.
        var error: String
    }

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    /// Transfer state shared with the C write callback through an opaque pointer.
    private final class Sink { var received: [UInt8] = [] }

    private static let writeCallback: swift_curl_data_cb = { data, size, count, opaque in
        guard let data, let opaque else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(opaque).takeUnretainedValue()
        let n = size * count
        data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
        return n
    }

    func perform(method: String, url: String, headers: [(String, String)], body: [UInt8]?) -> Response {
        guard CurlTransport.globalInit, let h = curl_easy_init() else { return Response(status: 0, body: [], error: "libcurl init failed") }
        defer { curl_easy_cleanup(h) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (k, v) in headers { list = curl_slist_append(list, "\(k): \(v)") }
        // curl adds "Expect: 100-continue" to larger POSTs; DataHub does not need the round trip.
        list = curl_slist_append(list, "Expect:")
        defer { curl_slist_free_all(list) }
        let sink = Sink()
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        var errbuf = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let payload = body ?? []
        let rc: CURLcode = errbuf.withUnsafeMutableBufferPointer { eb in
            payload.withUnsafeBytes { raw in
                _ = swift_curl_setopt_string(h, CURLOPT_URL, url)
                _ = swift_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
                _ = swift_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
                _ = swift_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, 5)
                _ = swift_curl_setopt_long(h, CURLOPT_TIMEOUT, timeoutSeconds)
                _ = swift_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method)
                if body != nil {
                    _ = swift_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, raw.count)
                    _ = swift_curl_setopt_ptr(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
                }
                _ = swift_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
                _ = swift_curl_setopt_writefn(h, CurlTransport.writeCallback)
                _ = swift_curl_setopt_ptr(h, CURLOPT_WRITEDATA, opaque)
                return curl_easy_perform(h)
            }
        }
        guard rc == CURLE_OK else {
            let detail = String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return Response(status: 0, body: [], error: detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail)
        }
        var code = 0
        _ = swift_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &code)
        return Response(status: code, body: sink.received, error: "")
    }
}
