import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// An `odl serve` child process for benchmarks that measure the server from outside (start-up
/// time, resident memory): started at once, its output in a log file, stopped with SIGTERM.
final class ServeChild {
    let process = Process()
    let logPath: String
    /// Monotonic seconds at launch.
    let started: Double
    private(set) var url = ""

    init(odl: String, arguments: [String]) throws {
        logPath = NSTemporaryDirectory() + "odl-bench-serve-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else {
            throw BenchError("\(logPath): cannot create")
        }
        process.executableURL = URL(fileURLWithPath: odl)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        started = BenchSupport.now()
        try process.run()
        try? log.close()
    }

    /// Waits for the `listening:` line and then for /readyz 200; returns the monotonic time of the first 200.
    func waitReady(timeout: Double) throws -> Double {
        let deadline = BenchSupport.now() + timeout
        while url.isEmpty {
            guard process.isRunning else { throw BenchError("odl serve exited \(process.terminationStatus): \(tail())") }
            if let line = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").first(where: { $0.hasPrefix("listening: ") }) {
                url = String(line.dropFirst("listening: ".count))
            } else {
                guard BenchSupport.now() < deadline else { throw BenchError("odl serve did not listen within \(timeout) s: \(tail())") }
                usleep(2000)
            }
        }
        while true {
            guard process.isRunning else { throw BenchError("odl serve exited \(process.terminationStatus): \(tail())") }
            if let client = try? BenchHTTPClient(url: url), let r = try? client.request(method: "GET", path: "/readyz"), r.status == 200 {
                return BenchSupport.now()
            }
            guard BenchSupport.now() < deadline else { throw BenchError("odl serve not ready within \(timeout) s: \(tail())") }
            usleep(2000)
        }
    }

    /// The child's resident memory (VmRSS), bytes; 0 when unreadable.
    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.filter(\.isNumber)) ?? 0) * 1024
        }
        return 0
    }

    /// The last lines of its log.
    func tail(_ n: Int = 20) -> String {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").suffix(n).joined(separator: "\n")
    }

    /// SIGTERM, wait up to 10 s, then SIGKILL; removes the log.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = BenchSupport.now() + 10
            while process.isRunning && BenchSupport.now() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        unlink(logPath)
    }
}
