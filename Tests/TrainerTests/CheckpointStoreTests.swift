import Foundation
import Inference
import Testing
@testable import Trainer

@Suite struct CheckpointStoreTests {
    @Test func writeThenReadRoundTripsEverything() throws {
        let dir = makeTempDir()
        let store = CheckpointStore(directory: dir)
        let contents = CheckpointContents(globalStep: 120, parameters: tinyParameters(),
                                          slots: [CheckpointTensor(name: "deep_feature/dnn_0/bias/Adam", shape: [3], values: [1, 2, 3]),
                                                  CheckpointTensor(name: "beta1_power", shape: [], values: [0.9])],
                                          updateOffsets: [0: 57], inputOffsets: [0: 5, 1: 10])
        let ref = try store.write(contents, spec: tinySpec(), keep: 3)
        #expect(ref.path == dir + "/model.ckpt-120")
        let back = try CheckpointStore.read(ref, spec: tinySpec())
        #expect(back == contents)
        let state = try String(contentsOfFile: dir + "/checkpoint", encoding: .utf8)
        #expect(state.hasPrefix("model_checkpoint_path: \"model.ckpt-120\"\n"))
        #expect(try String(contentsOfFile: dir + "/model.ckpt-120.offset", encoding: .utf8) == "{\"0\": 5, \"1\": 10}")
        // Files are real .npy: the dense kernel's header says its shape and data starts at a multiple of 64.
        let npy = try #require(FileManager.default.contents(atPath: dir + "/model.ckpt-120/dense_0.npy"))
        let headerEnd = 10 + Int(npy[8]) + Int(npy[9]) * 256
        #expect(headerEnd % 64 == 0)
        #expect(npy.count == headerEnd + 12 * 4)
        #expect(String(decoding: npy[10..<headerEnd], as: UTF8.self).contains("'shape': (4, 3)"))
    }

    @Test func rotationKeepsNewestAndLatestFollowsStateFile() throws {
        let dir = makeTempDir()
        let store = CheckpointStore(directory: dir)
        for step in [0, 10, 20, 30] {
            try store.write(CheckpointContents(globalStep: step, parameters: tinyParameters(), inputOffsets: [0: Int64(step)]),
                            spec: tinySpec(), keep: 2)
        }
        #expect(store.all().map(\.step) == [20, 30])
        #expect(!FileManager.default.fileExists(atPath: dir + "/model.ckpt-10.offset"))
        #expect(store.latest()?.step == 30)
        #expect(try CheckpointStore.resolve(path: dir).step == 30)
        #expect(try CheckpointStore.resolve(path: dir + "/model.ckpt-20").step == 20)
    }

    @Test func halfWrittenCheckpointIsIgnored() throws {
        let dir = makeTempDir()
        let store = CheckpointStore(directory: dir)
        try store.write(CheckpointContents(globalStep: 5, parameters: tinyParameters()), spec: tinySpec(), keep: 0)
        // A crash mid-write leaves a temp folder, or a renamed folder without index.json: neither counts.
        try FileManager.default.createDirectory(atPath: dir + "/.tmp-model.ckpt-9-1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/model.ckpt-9", withIntermediateDirectories: true)
        #expect(store.latest()?.step == 5)
        #expect(throws: TrainerError.self) { try CheckpointStore.resolve(path: dir + "/model.ckpt-9") }
    }

    @Test func mismatchedSpecIsNamedError() throws {
        let dir = makeTempDir()
        let store = CheckpointStore(directory: dir)
        let ref = try store.write(CheckpointContents(globalStep: 1, parameters: tinyParameters()), spec: tinySpec(), keep: 0)
        var other = tinySpec()
        other.denseVariables[1].shape = [4]
        do {
            _ = try CheckpointStore.read(ref, spec: other)
            Issue.record("expected a shape error")
        } catch let e as TrainerError {
            #expect(e.description.contains("deep_feature/dnn_0/bias"))
        }
    }

    @Test func emptyDirectoryHasNoCheckpoint() throws {
        let dir = makeTempDir()
        #expect(CheckpointStore(directory: dir).latest() == nil)
        #expect(throws: TrainerError.self) { try CheckpointStore.resolve(path: dir) }
        #expect(throws: TrainerError.self) { try CheckpointStore.resolve(path: dir + "/nope") }
    }
}

@Suite struct DenseUpdateVariablesFileTests {
    @Test func namesToIdsAsJSON() throws {
        let dir = makeTempDir()
        try DenseUpdateVariablesFile.write(spec: tinySpec(), to: dir + "/DENSE_UPDATE_VARIABLES")
        let data = try #require(FileManager.default.contents(atPath: dir + "/DENSE_UPDATE_VARIABLES"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int])
        #expect(object == ["deep_feature/dnn_0/kernel": 0, "deep_feature/dnn_0/bias": 1, "deep_logits/kernel": 2])
    }
}
