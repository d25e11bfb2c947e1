import Export
import FG
import Foundation
import Inference
import Logging
@testable import Processor
import Testing

/// `--memory-budget`: the guard releases the pages of a sorted memory-mapped key-value table
/// when the process's resident set is over the budget, and lookups still read the same values.
@Suite(.serialized) struct MemoryBudgetTests {
    @Test func sizesParse() throws {
        #expect(try MemoryBudget.parseSize("4G") == 4 << 30)
        #expect(try MemoryBudget.parseSize("512MiB") == 512 << 20)
        #expect(try MemoryBudget.parseSize("1.5k") == 1536)
        #expect(try MemoryBudget.parseSize("1073741824") == 1 << 30)
        for bad in ["", "-1G", "lots", "0", "nan"] {
            #expect(throws: ServeError.self) { try MemoryBudget.parseSize(bad) }
        }
    }

    @Test func overBudgetReleasesMappedPagesAndKeepsValues() async throws {
        let dim = 32, rows = 1 << 20   // 128 MiB of values
        let k = FeatureColumnSpec(name: "k", inputNames: ["k"], kind: .keyValue, embeddingDim: dim)
        let spec = try ModelSpec.make(columns: [k], wideFeatures: [], deepFeatures: [0], dnnHidden: [4], finalDnnHidden: nil)
        guard let kv = spec.embeddings.first(where: { $0.rows == nil })?.id else { Issue.record("no kv table"); return }
        let keys = (0..<rows).map { Int64($0) * 3 + 1 }
        var values = [Float](repeating: 0, count: rows * dim)
        for r in 0..<rows { values[r * dim] = Float(r) }
        let params = ModelParameters(dense: spec.denseVariables.map { [Float](repeating: 0.5, count: $0.elementCount) },
                                     tables: spec.embeddings.map { e in
                                         e.id == kv ? .keyValue(dim: dim, keys: keys, values: values)
                                             : .fixed(rows: e.rows ?? 1, dim: e.dim, values: [Float](repeating: 0, count: (e.rows ?? 1) * e.dim))
                                     })
        values = []
        let root = NSTemporaryDirectory() + "odl-budget-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ExportWriter.write(versionDir: root + "/1", spec: spec, parameters: params, pipelineConfig: "model_config {}\n")
        let store = try ExportReader.loadStore(root + "/1", spec: spec, sortedKVMinRows: 0)
        #expect(store.hasSortedBase)
        // Touch every page of the values (32 rows of 128 bytes per 4 KiB page).
        let before = MemoryBudget.residentBytes() ?? 0
        for r in stride(from: 0, to: rows, by: 16) { #expect(store.row(embeddingId: kv, key: keys[r])?.first == Float(r)) }
        let touched = MemoryBudget.residentBytes() ?? 0
        #expect(touched - before > 100 << 20, "the mapped pages count in the resident set")
        let guardian = MemoryBudget(budgetBytes: touched - (64 << 20), interval: 0.01, store: store,
                                    metrics: ProcessorMetrics(), logger: Logger(label: "test"))
        guardian.start()
        let deadline = Date().addingTimeInterval(10)
        while guardian.releases.load(ordering: .relaxed) == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guardian.shutdown()
        #expect(guardian.releases.load(ordering: .relaxed) >= 1)
        let after = MemoryBudget.residentBytes() ?? 0
        #expect(touched - after > 100 << 20, "released: \(touched) -> \(after) bytes")
        #expect(guardian.peakBytes.load(ordering: .relaxed) >= touched)
        for r in stride(from: 5, to: rows, by: 4099) { #expect(store.row(embeddingId: kv, key: keys[r])?.first == Float(r)) }
    }
}
