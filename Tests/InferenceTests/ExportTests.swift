@testable import ArrayIO
@testable import Export
import Foundation
import XCTest
import FG
@testable import Inference

final class ExportTests: XCTestCase {
    func testWriteReadRoundTrip() throws {
        let c = try Fixture.load("deepfm_final")
        let params = try ExportReader.loadParameters(c.dir, spec: c.spec)
        let t = TempDir()
        for (i, compress) in [false, true].enumerated() {
            let v = t.path + "/export/\(1_700_000_000 + i)"
            let kafka = KafkaInfo(server: "127.0.0.1:9092", topic: "updates", offset: 42, offsets: [0: 5, 3: 9])
            try ExportWriter.write(versionDir: v, spec: c.spec, parameters: params, pipelineConfig: "model_config {}\n",
                                   fgJSON: "{\"features\": []}", kafka: kafka,
                                   incrUpdate: .kafka(kafka), globalStep: compress ? 7 : nil, compress: compress)
            let m = try ExportReader.readManifest(v)
            XCTAssertEqual(m.globalStep, compress ? 7 : nil)
            XCTAssertEqual(m.pipelineConfig, "model_config {}\n")
            XCTAssertEqual(m.fgJSON, "{\"features\": []}")
            XCTAssertEqual(m.kafka, kafka)
            XCTAssertEqual(m.kafka?.startOffset(partition: 3), 9)
            XCTAssertEqual(m.kafka?.startOffset(partition: 1), 42)
            XCTAssertEqual(m.incrUpdate, .kafka(kafka))
            XCTAssertEqual(m.signature, ExportSignature.make(spec: c.spec).normalized)
            XCTAssertEqual(m.denseNamesById, c.spec.denseVariables.map(\.name))
            let back = try ExportReader.loadParameters(v, spec: c.spec)
            XCTAssertEqual(back, params)
            XCTAssertEqual(FileIO.exists(v + "/variables/dense/0.npy.gz"), compress)
        }
        // The export folder resolves to its newest version.
        XCTAssertEqual(try ExportReader.resolveVersionDir(t.path + "/export"), t.path + "/export/1700000001")
        // A global_step that is not a non-negative integer is an error naming the file.
        try #"{"global_step": "soon"}"#.write(toFile: t.path + "/export/1700000001/export_info.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExportReader.readManifest(t.path + "/export/1700000001")) { error in
            XCTAssertTrue("\(error)".contains("export_info.json"), "\(error)")
        }
        // Not overwritten.
        XCTAssertThrowsError(try ExportWriter.write(versionDir: t.path + "/export/1700000001", spec: c.spec, parameters: params, pipelineConfig: ""))
    }

    func testSeparateEmbeddingDirLocalAndURL() throws {
        let c = try Fixture.load("deepfm_nofinal")
        let params = try ExportReader.loadParameters(c.dir, spec: c.spec)
        let t = TempDir()
        let emb = t.path + "/emb-local"
        try ExportWriter.write(versionDir: t.path + "/a/1", spec: c.spec, parameters: params, pipelineConfig: "", embeddingDir: emb)
        XCTAssertFalse(FileIO.exists(t.path + "/a/1/embeddings"))
        XCTAssertThrowsError(try ExportReader.loadStore(t.path + "/a", spec: c.spec)) {
            XCTAssertTrue("\($0)".contains("embeddings/0.npy"), "\($0)")
        }
        XCTAssertEqual(try ExportReader.loadParameters(t.path + "/a", spec: c.spec, embeddingDir: emb), params)
        // A URL (file:// exercises the libcurl PUT/GET path without a network).
        let remote = t.path + "/remote"
        try FileIO.makeDirectories(remote)
        try ExportWriter.write(versionDir: t.path + "/b/1", spec: c.spec, parameters: params, pipelineConfig: "",
                               embeddingDir: "file://" + remote, compress: true)
        XCTAssertTrue(FileIO.exists(remote + "/0.npy.gz"))
        XCTAssertEqual(try ExportReader.loadParameters(t.path + "/b/1", spec: c.spec, embeddingDir: "file://" + remote), params)
        XCTAssertThrowsError(try ExportReader.loadStore(t.path + "/b/1", spec: c.spec, embeddingDir: "file://" + t.path + "/nowhere",
                                                        http: HTTPBlob(retries: 0))) {
            guard case .http = $0 as? ExportError else { return XCTFail("\($0)") }
        }
    }

    func testHTTPBlobFileURLs() throws {
        let t = TempDir()
        let blob = HTTPBlob(retries: 1)
        let data = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try blob.put("file://" + t.path + "/x.bin", bytes: data)
        XCTAssertEqual(try blob.get("file://" + t.path + "/x.bin"), data)
        try blob.download("file://" + t.path + "/x.bin", to: t.path + "/y.bin")
        XCTAssertEqual(try FileIO.readAll(t.path + "/y.bin"), data)
        try blob.upload(file: t.path + "/y.bin", to: "file://" + t.path + "/z.bin")
        XCTAssertEqual(try FileIO.readAll(t.path + "/z.bin"), data)
        XCTAssertThrowsError(try blob.get("file://" + t.path + "/absent"))
        XCTAssertThrowsError(try HTTPBlob(retries: 0).get("http://127.0.0.1:1/x")) {
            XCTAssertTrue("\($0)".contains("127.0.0.1:1"))
        }
    }

    func testValidationErrors() throws {
        let c = try Fixture.load("deepfm_final")
        let params = try ExportReader.loadParameters(c.dir, spec: c.spec)
        let t = TempDir()
        let v = t.path + "/1"
        try ExportWriter.write(versionDir: v, spec: c.spec, parameters: params, pipelineConfig: "")
        // Shape mismatch.
        try Npy.write([1, 2, 3] as [Float], shape: [3], to: v + "/variables/dense/1.npy")
        XCTAssertThrowsError(try ExportReader.loadStore(v, spec: c.spec)) {
            XCTAssertTrue("\($0)".contains("deep_feature/dnn_0/bias has shape [3]"), "\($0)")
        }
        // Missing dense file.
        unlink(v + "/variables/dense/1.npy")
        XCTAssertThrowsError(try ExportReader.loadStore(v, spec: c.spec)) { XCTAssertTrue("\($0)".contains("variables/dense/1.npy: missing"), "\($0)") }
        // Id mismatch in DENSE_UPDATE_VARIABLES.
        let other = try ModelSpec.make(columns: c.spec.columns, wideFeatures: c.spec.wideFeatures, deepFeatures: c.spec.deepFeatures,
                                       wideOutputDim: 3, dnnHidden: [16, 8], finalDnnHidden: [8], dnnUseBN: false)
        XCTAssertThrowsError(try ExportReader.validate(try ExportReader.readManifest(v), spec: other))
        // Bad JSON / missing metadata.
        try FileIO.writeText(v + "/kafka.txt", "{\"server\": \"s\", \"topic\": \"t\", \"consumer\": {\"offset\": \"12\"}}")
        XCTAssertEqual(try ExportReader.readManifest(v).kafka?.offset, 12)
        try FileIO.writeText(v + "/kafka.txt", "{\"server\": \"s\", \"topic\": \"t\", \"consumer\": {\"offset\": \"x\"}}")
        XCTAssertThrowsError(try ExportReader.readManifest(v)) { XCTAssertTrue("\($0)".contains("kafka.txt")) }
        unlink(v + "/kafka.txt")
        try FileIO.writeText(v + "/incr_update.txt", "{\"storage\": \"fs\", \"fs\": {\"incr_save_dir\": \"/data/incr\"}}")
        XCTAssertEqual(try ExportReader.readManifest(v).incrUpdate, .fs(incrSaveDir: "/data/incr"))
        XCTAssertNil(try ExportReader.readManifest(v).kafka)
        try FileIO.writeText(v + "/embed_name_to_ids.txt", "a\t0\nb\t2\n")
        XCTAssertThrowsError(try ExportReader.readManifest(v)) { XCTAssertTrue("\($0)".contains("without gaps")) }
        unlink(v + "/pipeline.config")
        XCTAssertThrowsError(try ExportReader.readManifest(t.path)) { XCTAssertTrue("\($0)".contains("pipeline.config: missing"), "\($0)") }
        XCTAssertThrowsError(try ExportReader.readManifest(v + "/variables")) { XCTAssertTrue("\($0)".contains("no numeric version"), "\($0)") }
    }
}

/// HTTP GET through a local `python3 -m http.server` (skipped when python3 is absent).
final class HTTPServerTests: XCTestCase {
    func testExportEmbeddingsOverHTTP() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 not installed") }
        let c = try Fixture.load("deepfm_final")
        let params = try ExportReader.loadParameters(c.dir, spec: c.spec)
        let t = TempDir()
        let served = t.path + "/served"
        try ExportWriter.write(versionDir: t.path + "/m/1", spec: c.spec, parameters: params, pipelineConfig: "", embeddingDir: served)
        let port = 20_000 + Int(getpid() % 20_000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", served]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        let blob = HTTPBlob(retries: 0)
        var ready = false
        for _ in 0..<100 where !ready {
            if (try? blob.get(base + "/0.npy")) != nil { ready = true } else { usleep(100_000) }
        }
        XCTAssertTrue(ready, "http.server did not start")
        XCTAssertEqual(try blob.get(base + "/0.npy"), try FileIO.readAll(served + "/0.npy"))
        XCTAssertThrowsError(try blob.get(base + "/absent.npy")) { XCTAssertTrue("\($0)".contains("HTTP status 404"), "\($0)") }
        let store = try ExportReader.loadStore(t.path + "/m", spec: c.spec, embeddingDir: base, http: HTTPBlob(retries: 1))
        XCTAssertEqual(store.snapshotParameters(), params)
        XCTAssertTrue(store.isMemoryMapped(embeddingId: 0), "downloaded tables are mapped, then unlinked")
    }
}
