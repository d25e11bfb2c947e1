import Foundation

/// The few S3 XML answers odl reads (ListObjectsV2, InitiateMultipartUpload, errors), taken
/// apart by element name with entity decoding; S3 answers are flat enough for this.
enum S3XML {
    /// Text of every `<name>...</name>` element in `xml`, in order, entities decoded.
    static func elements(_ name: String, in xml: Substring) -> [Substring] {
        let open = "<\(name)>", close = "</\(name)>"
        var out: [Substring] = []
        var rest = xml[...]
        while let a = rest.range(of: open) {
            guard let b = rest[a.upperBound...].range(of: close) else { break }
            out.append(rest[a.upperBound..<b.lowerBound])
            rest = rest[b.upperBound...]
        }
        return out
    }

    static func first(_ name: String, in xml: Substring) -> String? { elements(name, in: xml).first.map { decode($0) } }

    /// Decodes the five named entities and numeric character references.
    static func decode(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";"), s.distance(from: i, to: semi) <= 10 {
                let entity = s[s.index(after: i)..<semi]
                var scalar: Unicode.Scalar?
                switch entity {
                case "amp": scalar = "&"
                case "lt": scalar = "<"
                case "gt": scalar = ">"
                case "quot": scalar = "\""
                case "apos": scalar = "'"
                default:
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") { scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init) }
                    else if entity.hasPrefix("#") { scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init) }
                }
                if let scalar {
                    out.unicodeScalars.append(scalar)
                    i = s.index(after: semi)
                    continue
                }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return out
    }

    /// One page of a ListObjectsV2 answer.
    struct ListPage: Equatable {
        var objects: [ObjectInfo]
        var nextToken: String?
    }

    static func listPage(_ bytes: [UInt8]) -> ListPage {
        let xml = String(decoding: bytes, as: UTF8.self)[...]
        var objects: [ObjectInfo] = []
        for c in elements("Contents", in: xml) {
            guard let key = first("Key", in: c) else { continue }
            let size = first("Size", in: c).flatMap(Int.init) ?? 0
            objects.append(ObjectInfo(key: key, size: size, etag: first("ETag", in: c)))
        }
        let truncated = first("IsTruncated", in: xml) == "true"
        return ListPage(objects: objects, nextToken: truncated ? first("NextContinuationToken", in: xml) : nil)
    }

    /// `Code: Message` of an S3 error body, or the body's start.
    static func errorText(_ bytes: [UInt8]) -> String {
        let xml = String(decoding: bytes.prefix(4096), as: UTF8.self)[...]
        if let code = first("Code", in: xml) { return code + (first("Message", in: xml).map { ": " + $0 } ?? "") }
        return String(xml.prefix(200))
    }
}
