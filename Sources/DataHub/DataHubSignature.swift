import Digest
import Foundation

/// DataHub's request signature (as the official SDKs compute it): HMAC-SHA1 under the
/// akSecret of `METHOD\nContent-Type\nDate\n` + each `x-datahub-*` header as `name:value`
/// (names lower-cased, sorted) + `\n` + the percent-decoded path, with `?query` when the
/// request has one (parameters sorted by name, `k=v`, or `k` alone when empty). The header is
/// `Authorization: DATAHUB <akId>:<base64 signature>`.
public enum DataHubSignature {
    /// The string that is signed.
    public static func canonical(method: String, contentType: String, date: String,
                                 headers: [(name: String, value: String)], path: String, query: String?) -> String {
        var lines = [method, contentType, date]
        var signed: [String: String] = [:]
        for h in headers {
            let name = h.name.lowercased()
            if name.hasPrefix("x-datahub-") { signed[name] = h.value }
        }
        for name in signed.keys.sorted() { lines.append("\(name):\(signed[name] ?? "")") }
        let decodedPath = path.removingPercentEncoding ?? path
        if let query, !query.isEmpty {
            lines.append(decodedPath + "?" + canonicalQuery(query))
        } else {
            lines.append(decodedPath)
        }
        return lines.joined(separator: "\n")
    }

    /// Query parameters sorted by name (stable), `k=v` or `k` when the value is empty.
    static func canonicalQuery(_ query: String) -> String {
        let decoded = query.removingPercentEncoding ?? query
        let pairs = decoded.split(separator: "&", omittingEmptySubsequences: true).map { part -> (String, String) in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
        let sorted = pairs.enumerated().sorted { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }
        return sorted.map { $0.element.1.isEmpty ? $0.element.0 : "\($0.element.0)=\($0.element.1)" }.joined(separator: "&")
    }

    /// base64(HMAC-SHA1(secret, canonical)).
    public static func sign(_ canonical: String, secret: String) -> String {
        Data(HMACSHA1.mac(key: Array(secret.utf8), message: Array(canonical.utf8))).base64EncodedString()
    }

    /// The `Authorization` header value.
    public static func authorization(accessId: String, secret: String, canonical: String) -> String {
        "DATAHUB \(accessId):\(sign(canonical, secret: secret))"
    }

    /// An RFC 822 date in GMT, as the `Date` header carries it.
    public static func httpDate(_ date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }
}
