import Foundation
import Testing
@testable import Config

/// A config's problems are reported all at once, with its ignored fields (issue 18, item 11).
@Suite struct AllProblemsTests {
    static let base = """
    train_input_path: "x.csv"
    data_config {
      batch_sise: 64
      input_fields { input_name: "clk" input_type: INT32 }
      input_fields { input_name: "user_id" input_type: STRING }
      label_fields: "label"
      batch_size: 0
    }
    feature_config {
      features { input_names: "user_id" feature_type: IdFeature embedding_dim: 4 }
      features { input_names: "nope" feature_type: IdFeature embedding_dim: 4 hash_bucket_size: 10 }
    }
    model_config {
      model_class: "DeepFM"
      feature_groups { group_name: "wide" feature_names: "user_id" wide_deep: WIDE }
      deepfm { dnn { hidden_units: [8] } wide_output_dim: 1 }
    }
    """

    @Test func everyProblemAndTheIgnoredFieldAreReported() throws {
        do {
            _ = try PipelineConfig.load(text: Self.base, source: "bad.config")
            Issue.record("the config should not load")
        } catch {
            let all = error.all
            let text = error.description
            // The misspelt field, and every independent problem.
            #expect(all.contains { $0.kind == .unknownField && $0.path == "data_config.batch_sise" && $0.line == 3 }, "\(text)")
            #expect(all.contains { $0.path.hasPrefix("feature_config.features[0]") && $0.reason.contains("hash_bucket_size") }, "\(text)")
            #expect(all.contains { $0.path.hasPrefix("feature_config.features[1]") && $0.reason.contains("\"nope\"") }, "\(text)")
            #expect(all.contains { $0.reason.contains("feature group named \"deep\"") }, "\(text)")
            #expect(all.contains { $0.path == "data_config.batch_size" }, "\(text)")
            #expect(all.count >= 5, "\(text)")
            #expect(text.contains("\n  also: "))
        }
    }

    @Test func checkListsProblemsWithoutThrowing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odl-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.base.write(toFile: dir + "/bad.config", atomically: true, encoding: .utf8)
        let bad = PipelineConfig.check(path: dir + "/bad.config")
        #expect(bad.config == nil)
        #expect(bad.problems.count >= 4)
        #expect(bad.warnings.map(\.path) == ["data_config.batch_sise"])
        let missing = PipelineConfig.check(path: dir + "/none.config")
        #expect(missing.problems.first?.kind == .io)
        #expect(missing.problems.first?.source == dir + "/none.config")
    }

    @Test func aValidConfigHasNoProblems() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/demo/pipeline.config")
        let good = PipelineConfig.check(path: url.path)
        #expect(good.problems.isEmpty, "\(good.problems)")
        #expect(good.config != nil)
    }
}
