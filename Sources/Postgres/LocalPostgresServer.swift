import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL server for tests and benchmarks: the Debian `postgresql` binaries
/// (`initdb`, `pg_ctl`), a temporary data folder, a free loopback port, a private socket
/// folder and password (SCRAM) authentication. As root it runs as the unprivileged `nobody`,
/// as Debian's pg_ctlcluster does. `stop()` shuts it down and deletes the folder.
public final class LocalPostgresServer: Sendable {
    public let port: Int
    public let user: String
    public let password: String
    public let database = "postgres"
    public let folder: String
    let binDir: String
    let runAs: String?

    /// Why the server could not be set up or started; names the step and carries its output.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Where the server binaries are: `$PG_BINDIR`, else the newest /usr/lib/postgresql/N/bin.
    public static func findBinDir() throws(Failure) -> String {
        if let dir = ProcessInfo.processInfo.environment["PG_BINDIR"], FileManager.default.isExecutableFile(atPath: dir + "/initdb") {
            return dir
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") {
            return "\(root)/\(v)/bin"
        }
        throw Failure(description: "PostgreSQL server binaries not found (\(root)/*/bin/initdb, or $PG_BINDIR): run `make deps` (installs the Debian package postgresql)")
    }

    /// initdb + start. The caller must `stop()` (also on failure paths).
    public init(user: String = "odl", password: String = "odl-test-secret") throws(Failure) {
        binDir = try Self.findBinDir()
        self.user = user
        self.password = password
        runAs = getuid() == 0 ? "nobody" : nil
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("odl-pg-\(UUID().uuidString.prefix(8))").path
        folder = base
        do {
            try FileManager.default.createDirectory(atPath: base + "/sock", withIntermediateDirectories: true)
            try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: base + "/pw"))
        } catch {
            throw Failure(description: "cannot create \(base): \(error)")
        }
        if runAs != nil, let pw = getpwnam("nobody") {
            for path in [base, base + "/sock", base + "/pw"] { chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        }
        chmod(base, 0o700)
        var lastFailure = Failure(description: "not started")
        var chosen = 0
        do {
            try Self.run(binDir + "/initdb", ["-D", base + "/data", "-U", user, "--pwfile=" + base + "/pw", "--auth=scram-sha-256",
                                              "-E", "UTF8", "--locale=C", "--no-sync"], as: runAs, step: "initdb")
            for _ in 0..<5 {
                let candidate = Self.freePort()
                do {
                    try Self.run(binDir + "/pg_ctl", Self.startArguments(folder: base, port: candidate), as: runAs, step: "pg_ctl start")
                    chosen = candidate
                    break
                } catch {
                    lastFailure = error
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: base)
            throw error
        }
        guard chosen != 0 else {
            try? FileManager.default.removeItem(atPath: base)
            throw lastFailure
        }
        port = chosen
    }

    static func startArguments(folder: String, port: Int) -> [String] {
        ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60",
         "-o", "-p \(port) -k \(folder)/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
         "start"]
    }

    /// libpq connection keywords for this server.
    public var connectionParameters: [(String, String)] {
        [("host", "127.0.0.1"), ("port", String(port)), ("dbname", database), ("user", user), ("password", password),
         ("connect_timeout", "5")]
    }

    /// `postgres://user@127.0.0.1:port/postgres` (no password).
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    public func connect() throws(PGError) -> PGConnection { try PGConnection(parameters: connectionParameters) }

    /// Stop the server (fast shutdown: sessions are cut off), keeping the data folder: `start()` brings it back on the same port.
    public func pause() throws(Failure) {
        try Self.run(binDir + "/pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "-t", "60", "stop"], as: runAs, step: "pg_ctl stop")
    }

    /// Start again after `pause()`, on the same port.
    public func start() throws(Failure) {
        try Self.run(binDir + "/pg_ctl", Self.startArguments(folder: folder, port: port), as: runAs, step: "pg_ctl start")
    }

    /// Stop the server and delete its folder. Safe to call twice.
    public func stop() {
        if FileManager.default.fileExists(atPath: folder + "/data/postmaster.pid") {
            try? Self.run(binDir + "/pg_ctl", ["-D", folder + "/data", "-m", "fast", "-w", "-t", "30", "stop"], as: runAs, step: "pg_ctl stop")
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The server log (for failure messages).
    public func log() -> String {
        (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
    }

    /// Run a server tool to completion (as `user` through runuser when given); its output goes
    /// to a file (not a pipe: `pg_ctl start` leaves a daemon behind) that a failure quotes.
    /// posix_spawn + waitpid, so the daemon's double fork cannot confuse the wait.
    static func run(_ tool: String, _ arguments: [String], as user: String?, step: String) throws(Failure) {
        // env -C /: the tools start in a folder the unprivileged user can enter.
        let argv = ["/usr/bin/env", "-C", "/"] + (user.map { ["/usr/sbin/runuser", "-u", $0, "--", tool] } ?? [tool]) + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("odl-pg-tool-\(UUID().uuidString.prefix(8)).log").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard spawned == 0 else {
            throw Failure(description: "\(step): cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw Failure(description: "\(step) failed (\(exited ? "exit \(code)" : "signal \(status & 0x7f)")): \(text.suffix(2000))")
        }
    }

    /// A port that was free a moment ago on 127.0.0.1.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 20_000 + Int.random(in: 0..<20_000) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp -> Bool in
                bind(fd, sp, length) == 0 && getsockname(fd, sp, &length) == 0
            }
        }
        guard bound else { return 20_000 + Int.random(in: 0..<20_000) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
