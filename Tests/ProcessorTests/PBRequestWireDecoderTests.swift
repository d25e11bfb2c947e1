import Foundation
@testable import Processor
import SwiftProtobuf
import Testing

/// The fast PBRequest decoder against SwiftProtobuf: on every input it accepts it must produce
/// exactly SwiftProtobuf's message, and canonical requests must take the fast path.
@Suite struct PBRequestWireDecoderTests {
    static func randomRequest(_ rng: inout SplitMix) -> PBRequest {
        func feature(_ rng: inout SplitMix) -> PBFeature {
            var f = PBFeature()
            switch rng.next() % 5 {
            case 0: f.intFeature = Int32(truncatingIfNeeded: Int64(bitPattern: rng.next()))
            case 1: f.longFeature = Int64(bitPattern: rng.next())
            case 2: f.stringFeature = ["", "a", "item_\(rng.next() % 1000)", "多值\u{1d}x", "tags\u{1d}1\u{1d}2"][Int(rng.next() % 5)]
            case 3: f.floatFeature = [0, -1.5, .greatestFiniteMagnitude, .infinity, Float(rng.next() % 1000) / 7][Int(rng.next() % 5)]
            default: break  // no member set
            }
            return f
        }
        var r = PBRequest()
        r.debugLevel = Int32(rng.next() % 4) - (rng.next() % 7 == 0 ? 5 : 0)
        r.faissNeighNum = Int32(rng.next() % 3)
        let items = Int(rng.next() % 12)
        r.itemIds = (0..<items).map { "item_\($0)_\(rng.next() % 100)" }
        for u in 0..<Int(rng.next() % 5) { r.userFeatures["u\(u)"] = feature(&rng) }
        for c in 0..<Int(rng.next() % 5) {
            var cf = PBContextFeatures()
            cf.features = (0..<(rng.next() % 2 == 0 ? items : 1)).map { _ in feature(&rng) }
            r.contextFeatures["c\(c)"] = cf
        }
        return r
    }

    static func canonical(_ r: PBRequest) throws -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try r.serializedBytes(options: options)
    }

    @Test func canonicalRequestsTakeTheFastPathAndMatch() throws {
        var rng = SplitMix(2024)
        for _ in 0..<500 {
            let request = Self.randomRequest(&rng)
            let bytes: [UInt8] = try request.serializedBytes()
            let fast = try #require(PBRequestWireDecoder.decode(bytes), "canonical bytes must decode on the fast path")
            #expect(try Self.canonical(fast) == Self.canonical(request))
            #expect(try Self.canonical(fast) == Self.canonical(PBRequest(serializedBytes: bytes)))
        }
        #expect(PBRequestWireDecoder.decode([]) == PBRequest())
    }

    /// Mutated bytes (flips, truncations, insertions, unknown fields, duplicates): the fast
    /// decoder either declines (nil) or agrees with SwiftProtobuf, which must then also accept.
    @Test func mutatedBytesAgreeWithSwiftProtobuf() throws {
        var rng = SplitMix(77)
        var declined = 0, accepted = 0
        for _ in 0..<3000 {
            var bytes: [UInt8] = try Self.randomRequest(&rng).serializedBytes()
            switch rng.next() % 6 {
            case 0 where !bytes.isEmpty: bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 << (rng.next() % 8))
            case 1 where !bytes.isEmpty: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)) + 1)
            case 2: bytes.insert(UInt8(rng.next() % 256), at: Int(rng.next() % UInt64(bytes.count + 1)))
            case 3: bytes += [0x30, 0x05]                      // field 6 varint: unknown field
            case 4: bytes += [0x08, 0x02, 0x08, 0x03]          // debug_level twice: last wins
            default: bytes += [0x12, 0x07, 0x0a, 0x01, 0x78, 0x12, 0x02, 0x08, 0x01]  // user_features["x"] = int 1
            }
            let reference = try? PBRequest(serializedBytes: bytes)
            if let fast = PBRequestWireDecoder.decode(bytes) {
                accepted += 1
                #expect(reference != nil, "fast path accepted bytes SwiftProtobuf rejects: \(bytes)")
                // Compared by deterministic re-encoding: NaN floats make `==` false on equal messages.
                #expect(try Self.canonical(fast) == reference.map(Self.canonical), "fast path differs from SwiftProtobuf on \(bytes)")
            } else {
                declined += 1
            }
        }
        // Both outcomes occur, so both branches above were exercised.
        #expect(accepted > 500 && declined > 300, "accepted \(accepted), declined \(declined)")
    }

    /// Through the codec: fast path or not, the caller sees SwiftProtobuf's message or its error.
    @Test func codecFallsBackToSwiftProtobuf() throws {
        var r = PBRequest()
        r.itemIds = ["a", "b"]
        var bytes: [UInt8] = try r.serializedBytes()
        bytes += [0x30, 0x05]  // unknown field 6: declined by the fast path, kept by SwiftProtobuf
        #expect(PBRequestWireDecoder.decode(bytes) == nil)
        let decoded = try PredictCodec.decodeRequest(bytes, format: .protobuf(contentType: "application/x-protobuf"))
        #expect(decoded.itemIds == ["a", "b"])
        #expect(decoded == (try PBRequest(serializedBytes: bytes)))
        #expect(throws: PredictFailure.self) { try PredictCodec.decodeRequest([0x1a, 0x05, 0x61], format: .protobuf(contentType: "application/x-protobuf")) }
        #expect(throws: PredictFailure.self) { try PredictCodec.decodeRequest([0x1a, 0x02, 0xff, 0xfe], format: .protobuf(contentType: "application/x-protobuf")) }
    }
}
