import Digest
import Foundation
import Testing

/// Known-answer vectors for the digests (RFC 1321, FIPS 180-4, RFC 2202).
@Suite struct DigestTests {
    @Test func md5KnownAnswers() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        // RFC 1321 appendix A.5.
        #expect(hex(MD5.hash([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex(MD5.hash(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(MD5.hash(Array("message digest".utf8))) == "f96b697d7cb7938d525a2f31aaf161d0")
        #expect(hex(MD5.hash(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)))
                == "57edf4a22be3c955ac49da2e2107b67a")
        #expect(hex(MD5.hash([UInt8](repeating: 0x61, count: 1_000))) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
    }

    @Test func hmacSHA1KnownAnswers() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(HMACSHA1.sha1(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(HMACSHA1.sha1([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        // RFC 2202 test case 2.
        #expect(hex(HMACSHA1.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        // A key longer than the block size is hashed first (RFC 2202 case 6).
        #expect(hex(HMACSHA1.mac(key: [UInt8](repeating: 0xaa, count: 80),
                                 message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }
}
