import Foundation
import Testing
@testable import Trainer

/// `.offset` files: DataHub's cursor form round-trips, the plain form of earlier checkpoints still reads.
@Suite struct OffsetCursorFileTests {
    @Test func bothFormsRead() throws {
        let text = OffsetMap.encode([0: 12, 1: 7, 2: 0], cursors: [0: "300000000000000000000000000c1234", 1: "c\"1"])
        let decoded = try OffsetMap.decodeWithCursors(text, source: "t")
        #expect(decoded.offsets == [0: 12, 1: 7, 2: 0])
        #expect(decoded.cursors == [0: "300000000000000000000000000c1234", 1: "c\"1"])
        let old = try OffsetMap.decodeWithCursors("{\"0\": 5, \"1\": \"10\"}", source: "t")
        #expect(old.offsets == [0: 5, 1: 10] && old.cursors.isEmpty)
        #expect(OffsetMap.encode([0: 5], cursors: [:]) == OffsetMap.encode([0: 5]))
        #expect(throws: TrainerError.self) { try OffsetMap.decodeWithCursors("{\"0\": {\"cursor\": \"x\"}}", source: "t") }
    }
}
