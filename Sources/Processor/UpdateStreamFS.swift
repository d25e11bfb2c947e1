import Foundation
import Logging
import Storage
import Synchronization

/// fs-mode updates (formats.md 1.5): polls `incr_save_dir` and applies `dense_update_<step>` /
/// `sparse_update_<step>` once `<name>.done` exists, in step order, sparse before dense.
/// Offsets in the state are the order of application (partition 0).
/// May start before the model is loaded (``EarlyUpdateStream``): it lists the folder and reads
/// ahead, and waits on `latch` before applying the first file.
final class FSUpdateStream: Sendable {
    let directory: String
    let latch: ApplierLatch
    let state: UpdateStreamState
    let logger: Logger
    let pollInterval: Double

    init(directory: String, latch: ApplierLatch, state: UpdateStreamState, logger: Logger, pollInterval: Double = 0.2) {
        self.directory = directory
        self.latch = latch
        self.state = state
        self.logger = logger
        self.pollInterval = pollInterval
    }

    convenience init(directory: String, applier: UpdateApplier, state: UpdateStreamState, logger: Logger, pollInterval: Double = 0.2) {
        self.init(directory: directory, latch: ApplierLatch(applier: applier), state: state, logger: logger, pollInterval: pollInterval)
    }

    /// The applier once the model is loaded; nil if `stop` came first.
    private func waitForApplier(_ stop: borrowing Atomic<Bool>) -> UpdateApplier? {
        while !stop.load(ordering: .relaxed) {
            if let a = latch.wait(timeout: .milliseconds(20)) { return a }
        }
        return nil
    }

    /// One update file ready to apply.
    struct Ready: Equatable, Comparable {
        var step: Int64
        var dense: Bool
        var name: String
        static func < (a: Ready, b: Ready) -> Bool {
            a.step != b.step ? a.step < b.step : (!a.dense && b.dense)
        }
    }

    /// Files of `names` that are complete (their `.done` exists) and not in `applied`, in apply order.
    static func readyFiles(_ names: [String], applied: Set<String>) -> [Ready] {
        let present = Set(names)
        var ready: [Ready] = []
        for name in names where !applied.contains(name) && present.contains(name + ".done") {
            let dense: Bool
            let digits: Substring
            if name.hasPrefix("dense_update_") {
                dense = true
                digits = name.dropFirst("dense_update_".count)
            } else if name.hasPrefix("sparse_update_") {
                dense = false
                digits = name.dropFirst("sparse_update_".count)
            } else { continue }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let step = Int64(digits) else { continue }
            ready.append(Ready(step: step, dense: dense, name: name))
        }
        return ready.sorted()
    }

    func run(stop: borrowing Atomic<Bool>) {
        state.setPartitions([PartitionProgress(partition: 0, startOffset: 0, endOffsetAtStart: nil)])
        // A local folder is read with POSIX calls, files read ahead while one applies; an
        // object-store URL through Storage.
        let folder = Storage.isObjectURL(directory) ? nil : UpdateFileFolder(path: directory)
        var applied = Set<String>()
        var sequence: Int64 = 0
        var first = true
        while !stop.load(ordering: .relaxed) {
            let ready = Self.readyFiles(listNames(folder), applied: applied)
            if let folder {
                applyLocal(ready, folder: folder, applied: &applied, sequence: &sequence, stop: stop)
            } else {
                applyRemote(ready, applied: &applied, sequence: &sequence, stop: stop)
            }
            if first {
                first = false
                state.markCaughtUp()
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    /// The folder's entry names (listed each poll); a listing failure is reported and lists nothing.
    private func listNames(_ folder: UpdateFileFolder?) -> [String] {
        if let folder {
            do throws(UpdateFileFolder.Failure) {
                return try folder.names()
            } catch {
                state.recordError("fs updates: \(error.description)")
                return []
            }
        }
        do throws(StorageError) {
            return try Storage.location(directory).childNames()
        } catch {
            state.recordError("fs updates: cannot list \(directory): \(error.description)")
            return []
        }
    }

    private func applyLocal(_ ready: [Ready], folder: UpdateFileFolder, applied: inout Set<String>, sequence: inout Int64,
                            stop: borrowing Atomic<Bool>) {
        guard !ready.isEmpty else { return }
        let reader = UpdateFileReadAhead(folder: folder, names: ready.map(\.name))
        defer { reader.finish() }
        while !stop.load(ordering: .relaxed), let item = reader.next() {
            guard let applier = waitForApplier(stop) else { break }
            if let failure = item.failure {
                state.recordRejected(partition: 0, offset: sequence, rows: 0, reason: "cannot read the file: \(failure.description)")
            } else {
                let origin = UpdateApplier.Origin(source: directory, partition: 0, offset: sequence, key: item.name,
                                                  timestamp: item.modified)
                let count = item.count
                item.bytes.withUnsafeBytes { raw in
                    _ = applier.apply(borrowing: UnsafeRawBufferPointer(rebasing: raw.prefix(count)), origin: origin)
                }
            }
            applied.insert(item.name)
            sequence += 1
            reader.recycle(item)
        }
    }

    private func applyRemote(_ ready: [Ready], applied: inout Set<String>, sequence: inout Int64, stop: borrowing Atomic<Bool>) {
        for file in ready {
            guard let applier = waitForApplier(stop) else { break }
            let path = directory + "/" + file.name
            let origin = UpdateApplier.Origin(source: directory, partition: 0, offset: sequence, key: file.name, timestamp: nil)
            do throws(StorageError) {
                applier.apply(try Storage.location(path).read(), origin: origin)
            } catch {
                state.recordRejected(partition: 0, offset: sequence, rows: 0, reason: "\(path): cannot read the file: \(error.description)")
            }
            applied.insert(file.name)
            sequence += 1
        }
    }
}
