import Foundation
import Testing
@testable import Storage

/// URL parsing, the S3 XML reader, key encoding and local publication (no server needed; the
/// S3 paths against a real server are in odlTests/ObjectStoreE2ETests).
@Suite struct StorageTests {
    static let settings = StorageSettings(endpoint: "http://127.0.0.1:9", accessKey: "AK", secretKey: "SK")

    @Test func parsesObjectStoreURLs() throws {
        let s3 = try Storage.location("s3://bucket-1/a/b/", settings: Self.settings)
        #expect(s3.isRemote && s3.key == "a/b" && s3.url == "s3://bucket-1/a/b")
        let store = try #require(s3.store as? S3Store)
        #expect(store.requestURL("a/b c+d") == "http://127.0.0.1:9/bucket-1/a/b%20c%2Bd")
        let oss = try Storage.location("oss://bkt/x", settings: StorageSettings(endpoint: "oss-cn-beijing.aliyuncs.com", accessKey: "a", secretKey: "b"))
        #expect(try #require(oss.store as? S3Store).requestURL("x") == "https://bkt.oss-cn-beijing.aliyuncs.com/x")
        #expect(!(try Storage.location("rel/dir", settings: Self.settings)).isRemote)
        #expect(throws: StorageError.self) { try Storage.location("s3:///nokey", settings: Self.settings) }
        #expect(throws: StorageError.self) { try Storage.location("s3://b/k", settings: StorageSettings()) }
        do {
            _ = try Storage.location("s3://b/k", settings: StorageSettings(endpoint: "http://x"))
            Issue.record("missing credentials must fail")
        } catch { #expect(error.description.contains("ODL_OSS_AK")) }
        #expect(!Self.settings.description.contains("SK"), "the secret is never in a description")
    }

    @Test func readsListPagesWithEntitiesAndContinuation() {
        let xml = """
        <?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>\
        <Contents><Key>a/x&amp;y &lt;1&gt;.npy</Key><ETag>&quot;abc&quot;</ETag><Size>12</Size></Contents>\
        <Contents><Key>a/&#233;&#x41;</Key><Size>0</Size></Contents>\
        <NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>
        """
        let page = S3XML.listPage(Array(xml.utf8))
        #expect(page.objects == [ObjectInfo(key: "a/x&y <1>.npy", size: 12, etag: "\"abc\""), ObjectInfo(key: "a/éA", size: 0)])
        #expect(page.nextToken == "tok/+=")
        let last = S3XML.listPage(Array("<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken>t</NextContinuationToken></ListBucketResult>".utf8))
        #expect(last.objects.isEmpty && last.nextToken == nil)
        #expect(S3XML.errorText(Array("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>".utf8)) == "NoSuchKey: gone")
    }

    @Test func localPublicationIsOneRenameAndListsFiles() throws {
        let root = NSTemporaryDirectory() + "odl-storage-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let version = try Storage.location(root + "/export/17")
        #expect(!(try version.isPublished()))
        let staging = try version.makeStaging()
        try FileManager.default.createDirectory(atPath: staging + "/sub", withIntermediateDirectories: true)
        try LocalStore().write(staging + "/sub/a.txt", bytes: Array("hello".utf8))
        #expect(!(try version.isPublished()), "nothing visible before publish")
        try version.publish(staging: staging)
        #expect(try version.isPublished())
        #expect(try version.appending("sub/a.txt").readText() == "hello")
        #expect(try version.listTree() == [ObjectInfo(key: "sub/a.txt", size: 5)])
        #expect(try Storage.location(root + "/export").childNames() == ["17"])
        #expect(try version.localCopy().path == version.key, "local versions are used in place")
        do {
            _ = try version.appending("missing").read()
            Issue.record("a missing file must fail")
        } catch { #expect(error.isNotFound && error.description.contains("missing")) }
    }

    @Test func crc32ChecksumsMatchS3sForm() throws {
        // The CRC-32 check value of "123456789" is 0xCBF43926; S3 sends it big-endian in base64.
        #expect(CRC32Checksum.of(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32Checksum.text(0xCBF4_3926) == "y/Q5Jg==")
        // A file range is checksummed on its own, across the 1 MiB read chunks.
        let path = Storage.temporaryPath("crc")
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let range = 1000..<(1000 + (2 << 20) + 17)
        #expect(try CRC32Checksum.of(fd: fd, offset: range.lowerBound, length: range.count, path: path) == CRC32Checksum.of(Array(bytes[range])))
        // Past the end of the file is an error naming it, not a short checksum.
        #expect(throws: StorageError.self) { try CRC32Checksum.of(fd: fd, offset: bytes.count - 10, length: 20, path: path) }
        // Composite: the CRC of the parts' big-endian CRCs, then the part count.
        let parts: [UInt32] = [0xCBF4_3926, 0x0000_0001]
        #expect(CRC32Checksum.composite(parts) == CRC32Checksum.text(CRC32Checksum.of([0xCB, 0xF4, 0x39, 0x26, 0, 0, 0, 1])) + "-2")
    }

    @Test func uploadChecksumsDefaultToS3Only() {
        #expect(StorageSettings.UploadChecksum.auto.applies(toScheme: "s3"))
        #expect(!StorageSettings.UploadChecksum.auto.applies(toScheme: "oss"))
        #expect(StorageSettings.UploadChecksum.crc32.applies(toScheme: "oss"))
        #expect(!StorageSettings.UploadChecksum.off.applies(toScheme: "s3"))
    }
}
