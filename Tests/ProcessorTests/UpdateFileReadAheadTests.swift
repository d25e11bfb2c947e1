import Foundation
import Inference
@testable import Processor
import Testing

/// fs-mode replay: the POSIX folder reader, the read-ahead thread, and the stream applying
/// every complete file in order through them.
@Suite(.serialized) struct UpdateFileReadAheadTests {
    static func content(_ i: Int) -> [UInt8] {
        // Sizes from empty to a few MiB, so buffers are grown and then reused.
        let size = [0, 1, 4096, 3 << 20, 17, 1 << 20][i % 6] + i
        return (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
    }

    @Test func readsEveryFileInOrderReportingFailuresInPlace() throws {
        let dir = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var names: [String] = []
        for i in 0..<24 {
            let name = "f\(23 - i)"  // the given order, not the folder's or the names' order
            try Data(Self.content(i)).write(to: URL(fileURLWithPath: dir + "/" + name))
            names.append(name)
        }
        names.insert("missing", at: 5)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        names.insert("sub", at: 11)
        let folder = UpdateFileFolder(path: dir)
        #expect(Set(try folder.names()) == Set(names).subtracting(["missing"]))

        let reader = UpdateFileReadAhead(folder: folder, names: names, depth: 3)
        var seen: [String] = []
        var file = 0
        while let item = reader.next() {
            seen.append(item.name)
            switch item.name {
            case "missing":
                #expect(item.failure?.description.contains("cannot open") == true, "\(String(describing: item.failure))")
            case "sub":
                #expect(item.failure?.description.contains("not a regular file") == true)
            default:
                #expect(item.failure == nil)
                #expect(item.count == Self.content(file).count)
                #expect(Array(item.bytes.prefix(item.count)) == Self.content(file), "\(item.name)")
                #expect(item.modified.map { abs($0 - Date().timeIntervalSince1970) < 600 } == true)
                file += 1
            }
            reader.recycle(item)
        }
        reader.finish()
        #expect(seen == names)
        #expect(reader.next() == nil)
    }

    @Test func stoppingEarlyEndsTheReader() throws {
        let dir = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = (0..<12).map { "f\($0)" }
        for (i, name) in names.enumerated() { try Data(Self.content(i)).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        let reader = UpdateFileReadAhead(folder: UpdateFileFolder(path: dir), names: names, depth: 2)
        let first = try #require(reader.next())
        #expect(first.name == "f0" && first.count == Self.content(0).count)
        reader.finish()  // returns: the reader thread was waiting for a free slot
    }

    @Test func theStreamAppliesEveryFileInOrderAndReportsBadOnes() async throws {
        let model = try TestModel()
        let dir = try UpdateStreamTests.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reference = try ParameterStore(spec: model.spec, parameters: model.parameters)
        func write(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
            try Data().write(to: URL(fileURLWithPath: dir + "/" + name + ".done"))
        }
        // Sparse updates overwrite the same rows (odd and even steps alternate halves): the
        // served parameters equal the reference only when every good file applied, in step order.
        for step in Int32(1)...14 {
            let u = UpdateStreamTests.updates(model, step: step, seed: 1000 + UInt64(step))
            let bytes = try UpdateCodec.encode(u.sparse)
            switch step {
            case 5: try write("sparse_update_5", [1, 0, 0, 0, 9, 9])                       // malformed
            case 9: try write("sparse_update_9", Array(bytes.prefix(bytes.count / 2)))     // truncated
            default:
                try write("sparse_update_\(step)", bytes)
                _ = try reference.apply(u.sparse)
            }
        }
        let u15 = UpdateStreamTests.updates(model, step: 15, seed: 1015)
        try write("dense_update_15", UpdateCodec.encode(u15.dense))
        _ = try reference.apply(u15.dense)

        let server = try await ServerFixture(model: try model.loaded()) {
            $0.noUpdates = false
            $0.incrSaveDir = dir
        }
        let status = try await server.waitFor("13 applied, 2 rejected") {
            $0.updates.messagesApplied + $0.updates.messagesRejected == 15
        }
        #expect(status.updates.messagesApplied == 13 && status.updates.messagesRejected == 2)
        #expect(status.updates.sparseStep == 14 && status.updates.denseStep == 15)
        #expect(status.updates.partitions.first?.nextOffset == 15)
        #expect(status.updates.lastError?.contains("sparse_update_9") == true, "\(status.updates.lastError ?? "")")
        #expect(status.model.checksum == String(reference.checksum(), radix: 16))
        #expect(try await UpdateStreamTests.probs(server) == UpdateStreamTests.expectedProbs(model, reference.snapshotParameters()))
        let metrics = try await server.get("/metrics").text
        #expect(metrics.contains("odl_update_messages_total{result=\"rejected\"} 2"), "\(metrics)")
        await server.stop()
    }
}
