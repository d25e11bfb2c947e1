import Foundation
import Synchronization

/// Large objects: multipart upload and ranged parallel GET, `settings.partSize` bytes a part,
/// `settings.parallelism` parts at a time, each part retried on its own.
extension S3Store {
    /// ETags of the uploaded parts, filled by the workers.
    private final class PartTags: Sendable {
        let tags: Mutex<[String?]>
        init(_ n: Int) { tags = Mutex(Array(repeating: nil, count: n)) }
    }

    func multipartUpload(fd: Int32, size: Int, key: String, progress: TransferProgress) throws(StorageError) {
        guard let start = try run(S3Exchange(method: "POST", url: requestURL(key, query: [("uploads", "")])), key: key),
              let uploadId = S3XML.first("UploadId", in: String(decoding: start.body, as: UTF8.self)[...]), !uploadId.isEmpty else {
            throw .http(url: url(key), status: 200, detail: "InitiateMultipartUpload answered no UploadId")
        }
        let partSize = settings.partSize
        let parts = (size + partSize - 1) / partSize
        let tags = PartTags(parts)
        let store = self
        do throws(StorageError) {
            try Parallel.run(parts, width: settings.parallelism) { (i: Int) throws(StorageError) in
                let offset = i * partSize
                let length = min(partSize, size - offset)
                let u = store.requestURL(key, query: [("partNumber", String(i + 1)), ("uploadId", uploadId)])
                let r = try store.run(S3Exchange(method: "PUT", url: u, body: .file(fd: fd, offset: offset, length: length)), key: key)
                let etag = try store.verifyUploaded(key, r, size: length, what: "part \(i + 1)")
                tags.tags.withLock { $0[i] = etag }
                progress.add(length)
            }
            let etags = tags.tags.withLock { $0 }
            var xml = "<CompleteMultipartUpload>"
            for (i, tag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(Self.escape(tag ?? ""))</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let done = try run(S3Exchange(method: "POST", url: requestURL(key, query: [("uploadId", uploadId)]),
                                          headers: ["Content-Type: application/xml"], body: .bytes(Array(xml.utf8))), key: key)
            // The completed object's ETag is in the XML body; without one the object is not known to exist.
            guard let etag = done.flatMap({ S3XML.first("ETag", in: String(decoding: $0.body, as: UTF8.self)[...]) }), !etag.isEmpty else {
                throw .integrity(url: url(key), detail: "CompleteMultipartUpload answered no ETag for \(parts) parts")
            }
        } catch {
            // Best effort: free the parts; the object itself was never created.
            _ = try? run(S3Exchange(method: "DELETE", url: requestURL(key, query: [("uploadId", uploadId)])), key: key, notFoundIsError: false)
            throw error
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    func rangedDownload(fd: Int32, info: ObjectInfo, key: String, progress: TransferProgress) throws(StorageError) {
        guard ftruncate(fd, off_t(info.size)) == 0 else {
            throw .io(path: url(key), detail: "cannot size the local file: \(LocalStore.errnoText())")
        }
        let partSize = settings.partSize
        let parts = (info.size + partSize - 1) / partSize
        let store = self
        try Parallel.run(parts, width: settings.parallelism) { (i: Int) throws(StorageError) in
            let offset = i * partSize
            let length = min(partSize, info.size - offset)
            var headers = ["Range: bytes=\(offset)-\(offset + length - 1)"]
            // Every range must come from the same version of the object.
            if let etag = info.etag { headers.append("If-Match: \(etag)") }
            let r = try store.run(S3Exchange(method: "GET", url: store.requestURL(key), headers: headers, sink: .file(fd: fd, offset: offset)), key: key)
            guard let r, r.status == 206, r.received == length else {
                throw .integrity(url: store.url(key), detail: "range \(offset)+\(length): got status \(r?.status ?? 0), \(r?.received ?? 0) bytes")
            }
            progress.add(length)
        }
    }
}
