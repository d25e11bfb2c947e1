import Foundation

struct HarnessError: Error, CustomStringConvertible { let description: String }

/// Path of the built `odl` binary (<package root>/.build/debug/odl).
let odlBinary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug/odl").path

/// The pydatahub venv made by `make datahub-venv`.
let datahubPython = NSHomeDirectory() + "/.cache/odl/pydatahub-venv/bin/python"

/// A child process with its output in a log file; killed at deinit if still running.
final class ChildProcess: Sendable {
    let process: Process
    let logPath: String

    init(_ executable: String, _ arguments: [String], log: String) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError(description: "\(executable) is missing")
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        process = p
        logPath = log
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// An `odl datahub` child process and its endpoint URL.
final class EndpointProcess: Sendable {
    let child: ChildProcess
    let url: String

    init(dir: String, arguments: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: odlBinary) else {
            throw HarnessError(description: "odl binary missing at \(odlBinary): run `swift build` first")
        }
        let file = dir + "/endpoint-\(UUID().uuidString.prefix(6))"
        child = try ChildProcess(odlBinary, ["datahub", "--endpoint-file", file, "--access-id", "id1", "--access-key", "key1"] + arguments,
                                 log: dir + "/datahub.log")
        let deadline = Date().addingTimeInterval(20)
        var found = ""
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), !text.isEmpty {
                found = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            usleep(20_000)
        }
        guard !found.isEmpty else { throw HarnessError(description: "odl datahub did not start: \(child.output)") }
        url = found
    }

    func stop() {
        kill(child.process.processIdentifier, SIGTERM)
        _ = child.wait(timeout: 10)
    }
}

func makeTempDir(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "odl-datahub-\(clean)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
