@testable import Export
import XCTest
import Config
@testable import Inference

final class ExportInspectorTests: XCTestCase {
    func testDescribeWrittenExport() throws {
        let c = try Fixture.load("deepfm_final")
        let params = try ExportReader.loadParameters(c.dir, spec: c.spec)
        let t = TempDir()
        try ExportWriter.write(versionDir: t.path + "/123", spec: c.spec, parameters: params, pipelineConfig: "",
                               kafka: KafkaInfo(server: "h:9092", topic: "t", offset: 7))
        let text = try ExportInspector.describe(t.path)
        XCTAssertTrue(text.hasPrefix("MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:"))
        XCTAssertTrue(text.contains("signature_def['serving_default']:"))
        XCTAssertTrue(text.contains("    inputs['user_id'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)\n"))
        XCTAssertTrue(text.contains("    outputs['probs'] tensor_info:"))
        XCTAssertTrue(text.contains("    inputs['incr_update/dense/0/input'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (28, 16)\n        name: incr_update/dense/0/input:0\n"))
        XCTAssertTrue(text.contains("inputs['incr_update/sparse/embedding_update']"))
        XCTAssertTrue(text.contains("  id 0\tdeep_feature/dnn_0/kernel\tshape (28, 16)\tvariables/dense/0.npy\n"))
        XCTAssertTrue(text.contains("input_layer_1/item_id_embedding\tshape (12, 4)\tkey-value (12 keys)"))
        XCTAssertTrue(text.contains("Update stream: kafka h:9092 topic t from offset 7"))
        // Without signature.json and without a usable pipeline.config, the update signature is still derived.
        unlink(t.path + "/123/signature.json")
        let text2 = try ExportInspector.describe(t.path + "/123")
        XCTAssertTrue(text2.contains("serving inputs unknown"))
        XCTAssertTrue(text2.contains("shape: (28, 16)\n        name: incr_update/dense/0/input:0"))
    }

    func testDescribeUsesPipelineConfigWhenSignatureMissing() throws {
        let config = try PipelineConfig.load(path: ModelSpecBuilderTests.configDir + "/online_incr_kafka.config")
        let spec = try ModelSpec(config: config)
        let t = TempDir()
        try ExportWriter.writeMetadata(dir: t.path + "/5", spec: spec, pipelineConfig: config.textFormat())
        unlink(t.path + "/5/signature.json")
        let text = try ExportInspector.describe(t.path)
        XCTAssertTrue(text.contains("derived from pipeline.config"))
        XCTAssertTrue(text.contains("inputs['price'] tensor_info:\n        dtype: DT_FLOAT"))
        XCTAssertTrue(text.contains("(file missing)"))
    }
}
