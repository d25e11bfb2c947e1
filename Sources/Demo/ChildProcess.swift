import Foundation

/// Errors of the demo's process orchestration, each naming the process or step.
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child `odl` process started by the demo: output goes to a log file, which callers
/// scan for the lines the subcommands print (`bootstrap: ...`, `listening: ...`).
///
/// `@unchecked Sendable`: the only mutable state is inside `Process`, and every access to it
/// after `start` goes through `lock` (the pid and paths are immutable lets).
final class ChildProcess: @unchecked Sendable {
    let name: String
    let logPath: String
    let pid: Int32
    private let process: Process
    private let lock = NSLock()

    /// Starts `executable args...` with stdout and stderr appended to `logPath`.
    init(name: String, executable: String, arguments: [String], logPath: String,
         environment: [String: String] = [:]) throws {
        self.name = name
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw DemoError("\(name): cannot open log file \(logPath)")
        }
        log.seekToEndOfFile()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        do { try p.run() } catch {
            throw DemoError("\(name): cannot start \(executable): \(error)")
        }
        try? log.close()
        process = p
        pid = p.processIdentifier
        ChildRegistry.shared.add(pid)
    }

    var isRunning: Bool { lock.withLock { process.isRunning } }

    /// Exit status once exited (signal number when killed by a signal), nil while running.
    var exitStatus: (code: Int32, signaled: Bool)? {
        lock.withLock {
            process.isRunning ? nil : (process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }
    }

    /// The log so far.
    func output() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits until a log line starts with `prefix` (after trimming) and returns the rest of it.
    func waitForLine(prefix: String, timeout: Double) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for line in output().split(whereSeparator: \.isNewline) {
                let t = line.trimmingCharacters(in: .whitespaces)
                if let r = t.range(of: prefix), r.lowerBound == t.startIndex {
                    return String(t[r.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
            }
            if let status = exitStatus {
                throw DemoError("\(name) exited (status \(status.code)) before printing '\(prefix)'; log \(logPath):\n\(tail())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DemoError("\(name) did not print '\(prefix)' within \(Int(timeout)) s; log \(logPath):\n\(tail())")
    }

    /// Last lines of the log, for error messages.
    func tail(_ lines: Int = 15) -> String {
        output().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Sends `signal` (no-op when already exited).
    func signal(_ sig: Int32) {
        lock.withLock { if process.isRunning { kill(pid, sig) } }
    }

    /// Waits for exit up to `timeout` seconds; returns the status or nil on timeout.
    func waitForExit(timeout: Double) async -> (code: Int32, signaled: Bool)? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = exitStatus { ChildRegistry.shared.remove(pid); return s }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// SIGTERM, then SIGKILL after `grace` seconds.
    @discardableResult
    func stop(grace: Double = 10) async -> (code: Int32, signaled: Bool)? {
        signal(SIGTERM)
        if let s = await waitForExit(timeout: grace) { return s }
        signal(SIGKILL)
        return await waitForExit(timeout: 5)
    }

    /// `kill -9`, as a crash.
    func crash() async {
        signal(SIGKILL)
        _ = await waitForExit(timeout: 5)
    }
}

/// Pids of live children, so that Ctrl-C or a failure stops everything the demo started.
final class ChildRegistry: Sendable {
    static let shared = ChildRegistry()
    private let pids = Mutex<Set<Int32>>([])

    func add(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }

    /// SIGTERM to every child, a short grace period, then SIGKILL to the survivors.
    func killAll(grace: Double = 3) {
        let all = pids.withLock { $0 }
        for pid in all { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        var alive = all
        while !alive.isEmpty && Date() < deadline {
            alive = alive.filter { kill($0, 0) == 0 && !isZombie($0) }
            if !alive.isEmpty { usleep(50_000) }
        }
        for pid in alive { kill(pid, SIGKILL) }
        pids.withLock { $0.removeAll() }
    }

    private func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let rest = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces)
        return rest.hasPrefix("Z") || rest.hasPrefix("X")
    }

    /// On SIGINT/SIGTERM: stop all children and exit with 128+signal.
    func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            Foundation.signal(sig, SIG_IGN)
            SignalSources.sources.withLock { list in
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    FileHandle.standardError.write(Data("\ninterrupted: stopping the demo's processes\n".utf8))
                    ChildRegistry.shared.killAll()
                    exit(128 + sig)
                }
                source.resume()
                list.append(source)
            }
        }
    }
}

/// Keeps the dispatch signal sources alive for the life of the process.
private enum SignalSources {
    static let sources = Mutex<[any DispatchSourceSignal]>([])
}

import Synchronization
