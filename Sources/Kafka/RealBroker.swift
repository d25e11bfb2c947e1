import Foundation
import Synchronization

/// Why a `RealBroker` could not be found, started or stopped.
public struct RealBrokerError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// A real Kafka-protocol broker process (noida-db's Kafka service, installed by `make kafka`)
/// on a free loopback port with its data in a temporary folder. Used by tests and benchmarks
/// beside `EmbeddedBroker`; a watchdog kills it when the process that started it dies.
public final class RealBroker: Sendable {
    /// `127.0.0.1:PORT` of the broker.
    public let bootstrap: String
    /// The folder holding the broker's data (removed by `close`).
    public let dataDir: String
    private let binary: String
    private let port: UInt16
    private let running = Mutex<Process?>(nil)
    /// Held from picking a free port until the broker listens on it: two brokers started at once in
    /// this process must not pick the same port (the second would see the first one's listener).
    private static let startLock = Mutex<Void>(())

    /// Topic settings that turn off time retention. The broker applies Kafka's default `retention.ms`
    /// (7 days) about once a second, aged by a segment's newest message timestamp, so messages stamped
    /// with a fixed historic time (tests use 1970, 2020, 2023) are deleted within a second of being
    /// produced, and ListOffsets earliest / by timestamp then answer past them.
    public static let noTimeRetention: [String: String] = ["retention.ms": "-1"]

    /// The installed broker binary: `$ODL_REAL_KAFKA_BIN`, else the one `make kafka` put in
    /// `$HOME/.cache/odl/kafka-venv`.
    public static func locateBinary(environment: [String: String] = ProcessInfo.processInfo.environment) throws(RealBrokerError) -> String {
        if let explicit = environment["ODL_REAL_KAFKA_BIN"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw RealBrokerError(description: "ODL_REAL_KAFKA_BIN=\(explicit) is not an executable file (run `make kafka`)")
            }
            return explicit
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let lib = home + "/.cache/odl/kafka-venv/lib"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        for v in versions.sorted() where v.hasPrefix("python") {
            let path = "\(lib)/\(v)/site-packages/noida_db/noida-db"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw RealBrokerError(description: "real Kafka broker not installed (no noida-db under \(lib)): run `make kafka`")
    }

    /// Starts a broker and creates `topics` (name, partitions) through CreateTopics with `topicConfig`.
    public init(topics: [(name: String, partitions: Int)] = [], topicConfig: [String: String] = [:]) throws {
        binary = try Self.locateBinary()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odl-realkafka-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        dataDir = dir
        var lastError: Error = RealBrokerError(description: "broker never started")
        var started: (UInt16, Process)?
        let binary = self.binary
        for _ in 0..<3 {
            do {
                started = try Self.startLock.withLock { _ in
                    let p = try Self.freePort()
                    return (p, try Self.launch(binary: binary, dataDir: dir, port: p))
                }
                break
            } catch { lastError = error }
        }
        guard let (p, process) = started else {
            try? FileManager.default.removeItem(atPath: dir)
            throw lastError
        }
        port = p
        bootstrap = "127.0.0.1:\(p)"
        running.withLock { $0 = process }
        do {
            if !topics.isEmpty {
                let admin = try Admin(bootstrap: bootstrap)
                defer { admin.close() }
                for t in topics {
                    switch try admin.createTopic(name: t.name, partitions: t.partitions, config: topicConfig, timeout: .seconds(10)) {
                    case .created, .alreadyExists: continue
                    case .unsupported(let e): throw RealBrokerError(description: "CreateTopics \(t.name) on the real broker: \(e)")
                    }
                }
            }
        } catch {
            close()
            throw error
        }
    }

    /// Starts a broker with topics given as `NAME:PARTITIONS` (the `odl broker --topic` form).
    public convenience init(topicSpecs: [String], topicConfig: [String: String] = [:]) throws {
        try self.init(topics: try topicSpecs.map(Self.parseTopicSpec), topicConfig: topicConfig)
    }

    /// `NAME:PARTITIONS` as (name, partitions).
    public static func parseTopicSpec(_ spec: String) throws(RealBrokerError) -> (name: String, partitions: Int) {
        guard let colon = spec.lastIndex(of: ":"), colon != spec.startIndex,
              let n = Int(spec[spec.index(after: colon)...]), n > 0 else {
            throw RealBrokerError(description: "topic \"\(spec)\" is not NAME:PARTITIONS with PARTITIONS > 0")
        }
        return (String(spec[..<colon]), n)
    }

    /// Whether the broker process is running.
    public var isRunning: Bool { running.withLock { $0?.isRunning ?? false } }

    /// Stops the broker: SIGTERM (it saves its data, ~2 s) or, with `graceful: false`, SIGKILL.
    public func stop(graceful: Bool = true) {
        guard let p = running.withLock({ r -> Process? in defer { r = nil }; return r }) else { return }
        guard p.isRunning else { return }
        kill(p.processIdentifier, graceful ? SIGTERM : SIGKILL)
        let deadline = Date().addingTimeInterval(15)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// Starts the broker again on the same port and data folder (after `stop`).
    public func start() throws {
        guard !isRunning else { return }
        let p = try Self.launch(binary: binary, dataDir: dataDir, port: port)
        running.withLock { $0 = p }
    }

    /// Kills the broker and removes its data folder. Idempotent.
    public func close() {
        stop(graceful: false)
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    deinit { close() }

    private static func launch(binary: String, dataDir: String, port: UInt16) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["start", "--data-dir", dataDir, "--only", "kafka", "--host", "127.0.0.1", "--kafka-port", String(port)]
        let logPath = dataDir + "/broker.log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)
        _ = try? log?.seekToEnd()
        p.standardOutput = log ?? FileHandle.nullDevice
        p.standardError = log ?? FileHandle.nullDevice
        try p.run()
        try startWatchdog(child: p.processIdentifier)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if !p.isRunning {
                throw RealBrokerError(description: "real broker (\(binary)) exited with status \(p.terminationStatus) on port \(port), data \(dataDir)")
            }
            if canConnect(port: port) {
                // A listener that is not ours (the port was taken meanwhile) shows as our process exiting.
                usleep(100_000)
                if p.isRunning { return p }
                continue
            }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        throw RealBrokerError(description: "real broker did not accept connections on 127.0.0.1:\(port) within 15 s")
    }

    /// A shell loop that SIGKILLs `child` as soon as this process is gone (a crashed test must not
    /// leave a broker behind); it exits by itself when the child does.
    private static func startWatchdog(child: Int32) throws {
        let me = getpid()
        let w = Process()
        w.executableURL = URL(fileURLWithPath: "/bin/sh")
        w.arguments = ["-c", "while kill -0 \(me) 2>/dev/null && kill -0 \(child) 2>/dev/null; do sleep 0.5; done; kill -9 \(child) 2>/dev/null; exit 0"]
        w.standardOutput = FileHandle.nullDevice
        w.standardError = FileHandle.nullDevice
        try w.run()
    }

    /// A loopback port nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RealBrokerError(description: "socket() failed: errno \(errno)") }
        defer { Glibc.close(fd) }
        var addr = loopback(port: 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw RealBrokerError(description: "bind(127.0.0.1:0) failed: errno \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard named == 0 else { throw RealBrokerError(description: "getsockname failed: errno \(errno)") }
        return UInt16(bigEndian: addr.sin_port)
    }

    private static func canConnect(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var addr = loopback(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }
}
