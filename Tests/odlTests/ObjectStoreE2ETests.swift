import Config
import Foundation
import Storage
import Testing
@testable import Demo
@testable import Trainer

/// odl on an object store: model_dir, fine_tune_checkpoint, export_dir, embeddings and assets on
/// `s3://` URLs of a real local S3 server (moto, signatures checked; see MotoS3).
@Suite(.serialized) struct ObjectStoreE2ETests {
    /// Train with everything on s3://, checkpoint, kill -9, resume from the bucket, stop with
    /// OSS_STOP_SIGNAL put into the bucket, export to s3://, serve it: scores equal a local copy's bit for bit.
    @Test func trainerResumesExportsAndServesFromTheObjectStore() async throws {
        let s = try await E2EScenario("s3-train", checkpointSteps: 20)
        let moto = try await MotoS3(dir: s.dir)
        // The offline base as fine_tune_checkpoint in the bucket.
        let local = CheckpointStore(directory: s.base.baseDir)
        let baseRef = try #require(local.latest())
        try local.publish(baseRef, to: try moto.location("base"), keep: 0)
        var config = try PipelineConfig.load(path: s.onlineConfig)
        config.proto.modelDir = moto.url("online")
        config.proto.trainConfig.fineTuneCheckpoint = moto.url("base")
        let cfg = s.dir + "/s3.config"
        try config.write(path: cfg)

        let log1 = s.dir + "/samples-1.log", log2 = s.dir + "/samples-2.log"
        let t1 = try s.start("train-1", ["train", "--config", cfg, "--sample-log", log1, "--stop-check-secs", "0.2"] + moto.flags())
        let samples = s.base.todaySamples
        let part = samples.count / 2 / 32 * 32
        try await s.produce(samples[..<part])
        try await s.waitTrained(log: log1, last: Int64(part - 1), trainer: t1, timeout: 120)
        #expect(t1.child.output().contains("initialised from fine_tune_checkpoint"), "fine_tune_checkpoint read from s3://")
        let online = try moto.location("online")
        let deadline = Date().addingTimeInterval(60)
        while try CheckpointStore.remoteSteps(online).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        let steps1 = try CheckpointStore.remoteSteps(online)
        #expect(!steps1.isEmpty, "a complete checkpoint reached the bucket before the crash")
        await t1.child.crash()

        let t2 = try s.start("train-2", ["train", "--config", cfg, "--sample-log", log2, "--stop-check-secs", "0.2"] + moto.flags())
        var start: Int64 = -1
        let until = Date().addingTimeInterval(90)
        while Date() < until && start < 0 {
            let out = t2.child.output()
            if let r = out.range(of: "partition 0 starts at offset ") { start = Int64(out[r.upperBound...].prefix { $0.isNumber }) ?? -1 }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(t2.child.output().contains("resuming from \(moto.url("online"))/model.ckpt-"), "resumed from the bucket:\n\(t2.child.tail())")
        #expect(start > 0, "resumed at a checkpoint offset, not 0 (start \(start))")
        let pad = (32 - (samples.count - Int(max(start, 0))) % 32) % 32
        let stream = samples + samples.prefix(pad)
        try await s.produce(stream[part...])
        try await s.waitTrained(log: log2, last: Int64(stream.count - 1), trainer: t2, timeout: 120)
        #expect(sampleLogEntries(log2).first?.offset == start, "the restarted trainer read from its checkpoint's offset")

        // OSS_STOP_SIGNAL in the bucket stops the trainer (final checkpoint, exit 0).
        try online.appending("OSS_STOP_SIGNAL").write([])
        try await t2.expectSuccess(timeout: 90)
        #expect(t2.child.output().contains("OSS_STOP_SIGNAL"), "stop reason logged:\n\(t2.child.tail())")
        let finalStep = try #require(try CheckpointStore.remoteSteps(online).last)
        #expect(finalStep > steps1.last ?? 0)

        // Export from the bucket to the bucket: embeddings and the fg.json asset on s3:// too.
        let fg = try #require(FileManager.default.contents(atPath: s.base.fgPath))
        try moto.location("assets/fg.json").write([UInt8](fg))
        let export = try s.start("export", ["export", "--config", cfg, "--checkpoint-path", moto.url("online"),
                                            "--export-dir", moto.url("export"), "--embedding-dir", moto.url("emb"),
                                            "--asset-files", moto.url("assets/fg.json")] + moto.flags())
        try await export.expectSuccess(timeout: 180)
        let version = try #require(try moto.location("export").newestPublishedVersion())
        let info = String(decoding: try version.appending("export_info.json").read(), as: UTF8.self)
        #expect(info.contains("\"global_step\" : \(finalStep)") || info.contains("\"global_step\": \(finalStep)"), "export of the final checkpoint: \(info)")

        // odl serve --model s3://... against a local copy of the same export.
        let copy = try version.localCopy(scratch: s.dir)
        let embCopy = try moto.location("emb").localCopy(scratch: s.dir)
        let (remote, remoteClient) = try await Self.serve(s, "serve-s3", ["--model", moto.url("export"), "--embedding-dir", moto.url("emb")] + moto.flags())
        let (localServer, localClient) = try await Self.serve(s, "serve-local", ["--model", copy.path, "--embedding-dir", embCopy.path])
        let a = try await scoreAll(remoteClient, s.base.requests)
        let b = try await scoreAll(localClient, s.base.requests)
        #expect(!a.isEmpty && a == b, "s3 export vs its local copy must score bit for bit (max |diff| \(maxAbsDiff(a, b)))")
        print("objectStore: checkpoints \(steps1) before kill, resumed at offset \(start), final step \(finalStep), \(a.count) scores identical")
        await moto.stop()
        await s.stopAll([remote, localServer])
    }

    /// A static processor with extra arguments; waits until it is ready.
    static func serve(_ s: E2EScenario, _ name: String, _ args: [String]) async throws -> (E2EChild, ProcessorClient) {
        let p = try s.start(name, ["serve", "--host", "127.0.0.1", "--port", "0", "--no-updates"] + args)
        let url = try await p.child.waitForLine(prefix: "listening:", timeout: 120)
        let client = ProcessorClient(name: name, baseURL: url)
        try await client.waitReady(timeout: 120)
        return (p, client)
    }

    /// Faults: an export killed mid-upload leaves no version serve would use; a wrong secret
    /// key fails with a clear message (and is never logged); the server stopped mid-transfer
    /// (SIGSTOP) is retried, reported in the log, and the transfer completes. Both mid-upload
    /// moments are made certain by moto holding one part of the big asset unanswered
    /// (`holdParts`), so they do not depend on how fast the upload runs.
    @Test func killedUploadWrongKeyAndStalledServer() async throws {
        let base = try await E2EBase.shared()
        let binary = try E2EPaths.binary()
        let dir = base.root + "/s3-faults"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Part 3 of the killed upload and part 2 of the stalled one are never answered.
        let moto = try await MotoS3(dir: dir, holdParts: ["killed/:3", "stalled/:2"])
        // A 24 MiB asset: a multipart upload of 5 parts (5 MiB each, one at a time).
        let asset = dir + "/big.bin"
        var bytes = [UInt8](repeating: 0, count: 24 << 20)
        for i in stride(from: 0, to: bytes.count, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i >> 12) }
        try Data(bytes).write(to: URL(fileURLWithPath: asset))
        let parts = ["ODL_OSS_PART_MB": "5", "ODL_OSS_PARALLEL": "1", "ODL_OSS_STALL_SECS": "2"]
        func exportArgs(_ to: String) -> [String] {
            ["export", "--config", base.root + "/base.config", "--checkpoint-path", base.baseDir, "--export-dir", moto.url(to),
             "--asset-files", asset] + moto.flags()
        }

        // 1. kill -9 while part 3 of the asset is in flight (parts 1 and 2 stored).
        let killed = try E2EChild(name: "export-killed", binary: binary, log: dir + "/export-killed.log", exportArgs("killed"), environment: parts)
        let heldPart = try await moto.waitHeld("killed/", while: killed.child)
        #expect(heldPart == 3)
        #expect(killed.child.isRunning, "the export is still uploading when it is killed:\n\(killed.child.tail())")
        await killed.child.crash()
        let killedStatus = killed.child.exitStatus
        #expect(killedStatus?.signaled == true && killedStatus?.code == SIGKILL, "killed by SIGKILL, not finished: \(String(describing: killedStatus))")
        let left = try moto.location("killed").listTree()
        #expect(!left.contains { $0.key.hasSuffix(StorageLocation.manifestName) || $0.key.hasSuffix("/big.bin") },
                "the killed upload left no manifest and no asset object: \(left.map(\.key))")
        #expect(try moto.location("killed").newestPublishedVersion() == nil)
        let refused = try E2EChild(name: "serve-killed", binary: binary, log: dir + "/serve-killed.log",
                                   ["serve", "--model", moto.url("killed"), "--no-updates", "--port", "0"] + moto.flags())
        let status = await refused.child.waitForExit(timeout: 60)
        #expect(status != nil && status?.code != 0, "serve must refuse an incomplete export")
        #expect(refused.child.output().contains("no complete version"), "\(refused.child.tail())")

        // 2. A wrong secret key: a clear error naming bucket and key, the secret never printed.
        let wrong = try E2EChild(name: "serve-wrong-key", binary: binary, log: dir + "/serve-wrong-key.log",
                                 ["serve", "--model", moto.url("killed"), "--no-updates", "--port", "0"] + moto.flags(secret: "not-the-secret-key"))
        let wrongStatus = await wrong.child.waitForExit(timeout: 60)
        let out = wrong.child.output()
        #expect(wrongStatus != nil && wrongStatus?.code != 0)
        #expect(out.contains("access denied") && out.contains("bucket \(moto.bucket)") && out.contains("--oss-sk"), "\(wrong.child.tail())")
        #expect(!out.contains("not-the-secret-key") && !out.contains(moto.secretKey), "the secret key must never be logged")

        // 3. Part 2 of the asset hangs unanswered, and then the whole server freezes (SIGSTOP) for 10 s:
        // stalled requests time out, are retried, the export completes. (libcurl's stall check averages
        // the speed over its last ~5 s, so a stall is noticed about 5 s + ODL_OSS_STALL_SECS after the
        // last byte moved.)
        let stalled = try E2EChild(name: "export-stalled", binary: binary, log: dir + "/export-stalled.log", exportArgs("stalled"), environment: parts)
        #expect(try await moto.waitHeld("stalled/", while: stalled.child) == 2)
        moto.child.signal(SIGSTOP)
        try await Task.sleep(for: .seconds(10))
        moto.child.signal(SIGCONT)
        try await stalled.expectSuccess(timeout: 180)
        #expect(stalled.child.output().contains("retrying in"), "retries are reported:\n\(stalled.child.tail())")
        let version = try #require(try moto.location("stalled").newestPublishedVersion())
        let copy = try version.localCopy(scratch: dir)
        #expect(FileManager.default.contents(atPath: copy.path + "/big.bin") == Data(bytes), "the asset arrived whole")
        // The parts went with their CRC-32s: moto's composite checksum, computed from the bytes it stored,
        // equals the one of the source's five 5 MiB parts (S3 appends the part count, moto 5.2 does not).
        let stored = try #require(try version.store.head(version.appending("big.bin").key))
        let expected = Self.compositeCRC32(bytes, partSize: 5 << 20)
        #expect(stored.crc32 == expected || stored.crc32.map { $0 + "-5" } == expected,
                "stored CRC-32 \(stored.crc32 ?? "none"), expected \(expected)")
        await moto.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// S3's composite CRC-32 of `bytes` uploaded in `partSize` parts, by a bitwise CRC-32 of its
    /// own (independent of the zlib one odl uses): `<base64 of the CRC of the parts' CRCs>-<parts>`.
    static func compositeCRC32(_ bytes: [UInt8], partSize: Int) -> String {
        var table = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[i] = c
        }
        func crc(_ s: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in s { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            return c ^ 0xFFFF_FFFF
        }
        var joined: [UInt8] = []
        var parts = 0
        for start in stride(from: 0, to: bytes.count, by: partSize) {
            let c = crc(bytes[start..<min(start + partSize, bytes.count)])
            joined += [UInt8(c >> 24), UInt8((c >> 16) & 0xFF), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)]
            parts += 1
        }
        let whole = crc(joined[...])
        return Data([UInt8(whole >> 24), UInt8((whole >> 16) & 0xFF), UInt8((whole >> 8) & 0xFF), UInt8(whole & 0xFF)]).base64EncodedString() + "-\(parts)"
    }
}
