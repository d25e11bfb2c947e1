import Foundation
import Storage
import Testing
@testable import Demo

/// `fine_tune_checkpoint: s3://.../model.ckpt-200`: EasyRec's own TensorFlow checkpoint on the
/// object store (moto, signatures checked) starts `odl train` exactly as the same checkpoint on
/// local disk does; an incomplete prefix in the bucket is refused, naming what is missing.
@Suite(.serialized) struct EasyRecObjectStoreFineTuneTests {
    static let fixture = E2EPaths.packageRoot + "/Tests/Fixtures/easyrec"

    /// The fixture's base config, training 5 steps on today's CSV from `fineTune`.
    static func config(dir: String, name: String, fineTune: String) throws -> String {
        var text = try String(contentsOfFile: fixture + "/base_export/assets/pipeline.config", encoding: .utf8)
        text = text.replacingOccurrences(of: #"train_input_path: "[^"]*""#, with: "train_input_path: \"\(fixture)/data/today.csv\"",
                                         options: .regularExpression)
        text = text.replacingOccurrences(of: #"eval_input_path: "[^"]*"\n"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: "  num_steps: 200\n", with: "  num_steps: 5\n  fine_tune_checkpoint: \"\(fineTune)\"\n")
        let path = dir + "/" + name + ".config"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every file of the newest checkpoint under `modelDir`, by name.
    static func checkpointFiles(_ modelDir: String) throws -> [String: Data] {
        let names = try FileManager.default.contentsOfDirectory(atPath: modelDir)
        let step = try #require(names.compactMap { n -> Int? in
            guard n.hasPrefix("model.ckpt-"), !n.hasSuffix(".offset") else { return nil }
            return Int(n.dropFirst("model.ckpt-".count))
        }.max())
        let folder = modelDir + "/model.ckpt-\(step)"
        var files: [String: Data] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[f] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + f))
        }
        return files
    }

    @Test func easyRecCheckpointInTheBucketTrainsLikeTheLocalOne() async throws {
        let binary = try E2EPaths.binary()
        let dir = NSTemporaryDirectory() + "odl-easyrec-s3-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let moto = try await MotoS3(dir: dir)
        do {
            try await Self.trainBothWays(moto: moto, dir: dir, binary: binary)
        } catch {
            await moto.stop()
            throw error
        }
        await moto.stop()
    }

    static func trainBothWays(moto: MotoS3, dir: String, binary: String) async throws {
        let local = Self.fixture + "/checkpoints/model.ckpt-200"
        for suffix in [".index", ".data-00000-of-00001"] {
            try moto.location("ckpt/model.ckpt-200" + suffix).upload(file: local + suffix)
        }
        // Only the index: a prefix whose data shard is missing.
        try moto.location("broken/model.ckpt-200.index").upload(file: local + ".index")

        let fromBucket = try E2EChild(name: "train-s3", binary: binary, log: dir + "/train-s3.log",
                                      ["train", "--config", try Self.config(dir: dir, name: "s3", fineTune: moto.url("ckpt/model.ckpt-200")),
                                       "--model-dir", dir + "/model-s3"] + moto.flags())
        let fromDisk = try E2EChild(name: "train-local", binary: binary, log: dir + "/train-local.log",
                                    ["train", "--config", try Self.config(dir: dir, name: "local", fineTune: local),
                                     "--model-dir", dir + "/model-local"])
        let s3Status = await fromBucket.child.waitForExit(timeout: 180)
        let localStatus = await fromDisk.child.waitForExit(timeout: 180)
        #expect(s3Status?.code == 0 && s3Status?.signaled == false, "\(fromBucket.child.tail())")
        #expect(localStatus?.code == 0 && localStatus?.signaled == false, "\(fromDisk.child.tail())")
        #expect(fromBucket.child.output().contains("initialised from EasyRec checkpoint \(moto.url("ckpt/model.ckpt-200")) (step 200)"),
                "\(fromBucket.child.tail())")
        // Same checkpoint, same seed, same samples: the trained checkpoints are identical file by file.
        let s3Files = try Self.checkpointFiles(dir + "/model-s3")
        let localFiles = try Self.checkpointFiles(dir + "/model-local")
        #expect(!s3Files.isEmpty && s3Files.keys.sorted() == localFiles.keys.sorted())
        #expect(s3Files.keys.contains { $0.hasSuffix(".npy") }, "parameter arrays compared: \(s3Files.keys.sorted())")
        for (name, bytes) in s3Files where !name.hasSuffix(".json") {
            #expect(bytes == localFiles[name], "\(name) differs between the bucket and the local fine-tune")
        }
        // The downloaded copy is gone.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
            .filter { $0.hasPrefix("odl-easyrec-ckpt-\(fromBucket.child.pid)-") }
        #expect(leftovers.isEmpty, "downloaded checkpoint copies left behind: \(leftovers)")

        let broken = try E2EChild(name: "train-broken", binary: binary, log: dir + "/train-broken.log",
                                  ["train", "--config", try Self.config(dir: dir, name: "broken", fineTune: moto.url("broken/model.ckpt-200")),
                                   "--model-dir", dir + "/model-broken"] + moto.flags())
        let brokenStatus = await broken.child.waitForExit(timeout: 120)
        #expect(brokenStatus != nil && brokenStatus?.code != 0)
        #expect(broken.child.output().contains("has model.ckpt-200.index but no model.ckpt-200.data-* shard"), "\(broken.child.tail())")
    }
}
