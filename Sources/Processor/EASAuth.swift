import Digest
import Foundation
import HTTPTypes
import Hummingbird

/// Token check of predict calls. Accepts `Authorization: <token>` (EAS direct / custom URL
/// style) and the EAS gateway signature the SDKs send when they have a token and no
/// custom URL: `Authorization: EAS base64(HMAC-SHA1(token, "POST\n<Content-MD5>\n<Content-Type>\n<Date>\n<path>"))`.
enum EASAuth {
    static let contentMD5 = HTTPField.Name("Content-MD5")

    /// What a valid Authorization header established.
    enum Verdict: Equatable {
        case rejected
        case accepted
        /// An EAS signature over this `Content-MD5` value: the body must have that MD5.
        case signedBody(contentMD5: String)
    }

    static func accepts(_ authorization: String, token: String, request: Request) -> Bool {
        verify(authorization, token: token, request: request) != .rejected
    }

    static func verify(_ authorization: String, token: String, request: Request) -> Verdict {
        if constantTimeEqual(Array(authorization.utf8), Array(token.utf8)) { return .accepted }
        guard authorization.hasPrefix("EAS ") else { return .rejected }
        let given = authorization.dropFirst(4).trimmingCharacters(in: .whitespaces)
        let canonical = [
            "POST",
            contentMD5.flatMap { request.headers[$0] } ?? "",
            request.headers[.contentType] ?? "",
            request.headers[.date] ?? "",
            request.uri.path,
        ].joined(separator: "\n")
        let expected = Data(HMACSHA1.mac(key: Array(token.utf8), message: Array(canonical.utf8))).base64EncodedString()
        guard constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else { return .rejected }
        let md5 = contentMD5.flatMap { request.headers[$0] } ?? ""
        return md5.isEmpty ? .accepted : .signedBody(contentMD5: md5)
    }

    /// Whether `header` is the MD5 of `body`, as hex (the Python SDK) or base64 (RFC 1864).
    static func contentMD5Matches(_ header: String, body: [UInt8]) -> Bool {
        let digest = MD5.hash(body)
        let value = header.trimmingCharacters(in: .whitespaces)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        return value.lowercased() == hex || value == Data(digest).base64EncodedString()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
