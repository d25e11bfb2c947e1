@testable import UpdateFuzz
import XCTest
@testable import Inference

/// The in-place path (UpdateCodec.sparseLayout + ParameterStore.apply(_:bytes:)) against the
/// array path (UpdateCodec.decode + ParameterStore.apply(_:)).
final class SparseWireApplyTests: XCTestCase {
    private func freshStore() throws -> ParameterStore {
        let spec = UpdateFuzzer.spec
        let dense = spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) }
        return try ParameterStore(spec: spec, parameters: ModelParameters(dense: dense, tables: [
            .fixed(rows: 16, dim: 1, values: [Float](repeating: 0, count: 16)),
            .fixed(rows: 16, dim: 3, values: [Float](repeating: 0, count: 48)),
            .keyValue(dim: 3, keys: [7], values: [1, 2, 3])]))
    }

    private enum Outcome: Equatable {
        case accepted(UpdateMessage)
        case rejected(UpdateError)
    }

    /// Random and mutated messages: same verdict, same error, same message; stores end bit-identical.
    func testInPlaceMatchesArrayPathOnFuzzedMessages() throws {
        let spec = UpdateFuzzer.spec
        let viaArrays = try freshStore(), inPlace = try freshStore()
        var r = UpdateFuzzer.Rng(s: 42)
        var accepted = 0, rejected = 0, sparseApplied = 0
        for i in 0..<6000 {
            var bytes = UpdateCodec.encode(UpdateFuzzer.randomMessage(&r))
            if r.below(3) != 0 { UpdateFuzzer.mutate(&bytes, &r) }
            let expected: Outcome
            do { expected = .accepted(try UpdateCodec.decode(bytes, spec: spec)) } catch { expected = .rejected(error) }
            let got: Outcome = bytes.withUnsafeBytes { raw -> Outcome in
                do throws(UpdateError) {
                    if let layout = try UpdateCodec.sparseLayout(raw, spec: spec) { return .accepted(.sparse(layout.materialize(raw))) }
                    return .accepted(try UpdateCodec.decode(raw, spec: spec))
                } catch {
                    return .rejected(error)
                }
            }
            XCTAssertEqual(got, expected, "message \(i)")
            guard case .accepted(let m) = expected else { rejected += 1; continue }
            accepted += 1
            let a = try viaArrays.apply(m)
            let b: ApplyCounts = try bytes.withUnsafeBytes { (raw) throws -> ApplyCounts in
                if let layout = try UpdateCodec.sparseLayout(raw, spec: spec) {
                    sparseApplied += 1
                    return try inPlace.apply(layout, bytes: raw)
                }
                return try inPlace.apply(UpdateCodec.decode(raw, spec: spec))
            }
            XCTAssertEqual(a, b, "message \(i)")
        }
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(sparseApplied, 500)
        XCTAssertEqual(viaArrays.checksum(), inPlace.checksum())
        XCTAssertEqual(viaArrays.snapshotParameters(), inPlace.snapshotParameters())
    }

    /// The chunked NaN/Inf scan finds the first bad value at and around its chunk boundaries.
    func testNonFiniteFoundAtChunkBoundaries() throws {
        let spec = UpdateFuzzer.spec
        let keys = (0..<700).map { Int64($0) * 3 + 1 }
        let values = (0..<2100).map { Float($0 % 17) }
        let message = UpdateMessage.sparse(SparseUpdate(globalStep: 3, blocks: [.init(embeddingId: 2, keys: keys, values: values)]))
        let clean = UpdateCodec.encode(message)
        let valuesAt = 12 + 8 + 8 * keys.count
        for index in [0, 1, 1023, 1024, 1025, 2047, 2048, 2099] {
            for pattern: UInt32 in [0x7fc0_0000, 0x7f80_0000, 0xff80_0000, 0x7fff_ffff] {
                var bytes = clean
                withUnsafeBytes(of: pattern.littleEndian) { bytes.replaceSubrange((valuesAt + 4 * index)..<(valuesAt + 4 * index + 4), with: $0) }
                // A second bad value later must not win.
                if index + 5 < values.count {
                    withUnsafeBytes(of: UInt32(0x7f80_0000).littleEndian) { bytes.replaceSubrange((valuesAt + 4 * index + 20)..<(valuesAt + 4 * index + 24), with: $0) }
                }
                XCTAssertThrowsError(try bytes.withUnsafeBytes { try UpdateCodec.sparseLayout($0, spec: spec) }) {
                    XCTAssertEqual($0 as? UpdateError, .nonFinite(parameter: "input_layer_1/k_embedding", index: index))
                }
                XCTAssertNoThrow(try bytes.withUnsafeBytes { try UpdateCodec.sparseLayout($0, spec: spec, options: UpdateOptions(allowNonFinite: true)) })
            }
        }
        // Largest finite values pass.
        var big = clean
        withUnsafeBytes(of: Float.greatestFiniteMagnitude.bitPattern.littleEndian) { big.replaceSubrange(valuesAt..<(valuesAt + 4), with: $0) }
        withUnsafeBytes(of: (-Float.greatestFiniteMagnitude).bitPattern.littleEndian) { big.replaceSubrange((valuesAt + 4)..<(valuesAt + 8), with: $0) }
        XCTAssertNotNil(try big.withUnsafeBytes { try UpdateCodec.sparseLayout($0, spec: spec) })
    }

    /// Bytes at an odd address (as a Kafka client's buffer may be) apply the same rows.
    func testUnalignedBytes() throws {
        let spec = UpdateFuzzer.spec
        let message = UpdateMessage.sparse(SparseUpdate(globalStep: 9, blocks: [
            .init(embeddingId: 1, keys: [3, 15], values: [1, 2, 3, 4, 5, 6]),
            .init(embeddingId: 2, keys: [7, 1 << 40], values: [7, 8, 9, 10, 11, 12])]))
        let bytes = UpdateCodec.encode(message)
        let aligned = try freshStore(), odd = try freshStore()
        try aligned.apply(message)
        let shifted = [UInt8(0)] + bytes
        let counts = try shifted.withUnsafeBytes { (raw) throws -> ApplyCounts in
            let view = UnsafeRawBufferPointer(rebasing: raw[1...])
            guard let layout = try UpdateCodec.sparseLayout(view, spec: spec) else { throw UpdateError.badKind(0) }
            return try odd.apply(layout, bytes: view)
        }
        XCTAssertEqual(counts, ApplyCounts(rowsUpdated: 3, rowsInserted: 1))
        XCTAssertEqual(odd.checksum(), aligned.checksum())
        XCTAssertEqual(odd.row(embeddingId: 1, key: 15), [4, 5, 6])
        XCTAssertEqual(odd.row(embeddingId: 2, key: 1 << 40), [10, 11, 12])
    }

    /// A layout paired with other bytes is refused whole (memory safety does not rest on the caller).
    func testLayoutOfOtherBytesIsRefused() throws {
        let spec = UpdateFuzzer.spec
        let good = UpdateCodec.encode(.sparse(SparseUpdate(globalStep: 1, blocks: [.init(embeddingId: 1, keys: [2, 4], values: [1, 2, 3, 4, 5, 6])])))
        let store = try freshStore()
        let before = store.checksum()
        let layout = try good.withUnsafeBytes { try UpdateCodec.sparseLayout($0, spec: spec) }
        guard let layout else { return XCTFail("sparse message gave no layout") }
        // Shorter bytes.
        XCTAssertThrowsError(try Array(good.dropLast(4)).withUnsafeBytes { try store.apply(layout, bytes: $0) })
        // Same length, a key out of the fixed table's range.
        var forged = good
        forged[20] = 200
        XCTAssertThrowsError(try forged.withUnsafeBytes { try store.apply(layout, bytes: $0) }) {
            XCTAssertEqual($0 as? UpdateError, .keyOutOfRange(embedding: "input_layer_1/f_embedding", key: 200, rows: 16))
        }
        XCTAssertEqual(store.checksum(), before)
        XCTAssertEqual(try good.withUnsafeBytes { try store.apply(layout, bytes: $0) }, ApplyCounts(rowsUpdated: 2))
        XCTAssertEqual(store.row(embeddingId: 1, key: 4), [4, 5, 6])
    }
}
