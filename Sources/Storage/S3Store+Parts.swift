import Foundation
import Synchronization

/// Large objects: multipart upload and ranged parallel GET, `settings.partSize` bytes a part,
/// `settings.parallelism` parts at a time, each part retried on its own.
extension S3Store {
    /// ETags and CRC-32s (with checksums on) of the uploaded parts, filled by the workers.
    private final class PartTags: Sendable {
        let tags: Mutex<[String?]>
        let crcs: Mutex<[UInt32]>
        init(_ n: Int) {
            tags = Mutex(Array(repeating: nil, count: n))
            crcs = Mutex(Array(repeating: 0, count: n))
        }
    }

    /// With checksums on, the upload is declared CRC-32 and each part carries its own, which
    /// the store verifies; the completed object's composite checksum must then match the parts'.
    func multipartUpload(fd: Int32, path: String, size: Int, key: String, progress: TransferProgress) throws(StorageError) {
        let checksums = self.checksums
        let declare = checksums ? ["x-amz-checksum-algorithm: CRC32"] : []
        guard let start = try run(S3Exchange(method: "POST", url: requestURL(key, query: [("uploads", "")]), headers: declare), key: key),
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
                var crcText: String?
                if checksums {
                    let crc = try CRC32Checksum.of(fd: fd, offset: offset, length: length, path: path)
                    tags.crcs.withLock { $0[i] = crc }
                    crcText = CRC32Checksum.text(crc)
                }
                let r = try store.run(S3Exchange(method: "PUT", url: u, headers: Self.checksumHeader(crcText),
                                                 body: .file(fd: fd, offset: offset, length: length)), key: key)
                let etag = try store.verifyUploaded(key, r, size: length, what: "part \(i + 1)", crc32: crcText)
                tags.tags.withLock { $0[i] = etag }
                progress.add(length)
            }
            let etags = tags.tags.withLock { $0 }
            let crcs = tags.crcs.withLock { $0 }
            var xml = "<CompleteMultipartUpload>"
            for (i, tag) in etags.enumerated() {
                let crc = checksums ? "<ChecksumCRC32>\(CRC32Checksum.text(crcs[i]))</ChecksumCRC32>" : ""
                xml += "<Part>\(crc)<ETag>\(Self.escape(tag ?? ""))</ETag><PartNumber>\(i + 1)</PartNumber></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let done = try run(S3Exchange(method: "POST", url: requestURL(key, query: [("uploadId", uploadId)]),
                                          headers: ["Content-Type: application/xml"], body: .bytes(Array(xml.utf8))), key: key)
            // The completed object's ETag is in the XML body; without one the object is not known to exist.
            let answer = done.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
            guard let etag = S3XML.first("ETag", in: answer[...]), !etag.isEmpty else {
                throw .integrity(url: url(key), detail: "CompleteMultipartUpload answered no ETag for \(parts) parts")
            }
            // S3 answers the object's composite CRC-32 (`<base64>-<parts>`, or the bare base64).
            if checksums, let reported = S3XML.first("ChecksumCRC32", in: answer[...]) {
                let expected = CRC32Checksum.composite(crcs)
                guard reported == expected || reported + "-\(parts)" == expected else {
                    throw .integrity(url: url(key), detail: "the completed object's CRC-32 is \(reported), its parts' give \(expected)")
                }
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
