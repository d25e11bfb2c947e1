import Foundation
import Testing
@testable import Demo
@testable import odl

/// What a new user runs first (issue 18): the shipped export, README's examples, usage errors,
/// `odl check-config`, `--log-format json`, the demo's cosmetics.
@Suite(.serialized) struct NewUserTests {
    static let root = E2EPaths.packageRoot
    static let sampleExport = root + "/models/sample"

    static func tempDir(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odl-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs `odl args...` to completion; its combined stdout + stderr and exit code.
    static func odl(_ args: [String], dir: String) async throws -> (output: String, code: Int32) {
        let child = try ChildProcess(name: "odl-\(args.first ?? "")", executable: try E2EPaths.binary(), arguments: args,
                                     logPath: dir + "/\(UUID().uuidString).log")
        guard let status = await child.waitForExit(timeout: 120) else {
            await child.stop(grace: 2)
            throw E2EError("odl \(args) did not finish:\n\(child.tail())")
        }
        return (child.output(), status.code)
    }

    /// Runs a README command line with bash in the package root, the debug `odl` first on PATH.
    static func shell(_ command: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", command]
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = root + "/.build/debug:" + (env["PATH"] ?? "/usr/bin:/bin")
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    // Item 1: the shipped export is real and complete.
    @Test func theShippedExportInspectsAndServes() async throws {
        let dir = try Self.tempDir("inspect")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inspect = try await Self.odl(["inspect", Self.sampleExport], dir: dir)
        #expect(inspect.code == 0, "\(inspect.output)")
        #expect(inspect.output.contains("signature_def['serving_default']"))
        #expect(inspect.output.contains("outputs['probs']"))
        let server = try ChildProcess(name: "serve-sample", executable: try E2EPaths.binary(),
                                      arguments: ["serve", "--model", Self.sampleExport, "--port", "0"], logPath: dir + "/serve.log")
        let url = try await server.waitForLine(prefix: "listening:", timeout: 60)
        #expect(url.hasPrefix("http://127.0.0.1:"), "the default host is loopback: \(url)")
        let client = ProcessorClient(name: "sample", baseURL: url)
        try await client.waitReady(timeout: 30)
        let status = try await client.status()
        #expect((status["model"] as? [String: Any])?["baseStep"] as? Int == 240)
        await server.stop(grace: 5)
        // No update stream in the export: it serves statically, and says why.
        #expect(server.output().contains("no update stream") || server.output().contains("updates"), "\(server.output())")
    }

    /// Item 2: every README block marked `<!-- example -->` runs against the shipped export and
    /// prints what README shows (`# ` lines after a command are its output; JSON compared as JSON).
    @Test func readmeExamplesRunAndPrintWhatReadmeShows() async throws {
        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let examples = ReadmeExamples.parse(readme)
        #expect(examples.count >= 5, "README has \(examples.count) checked examples")
        let dir = try Self.tempDir("readme")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ChildProcess(name: "serve-readme", executable: try E2EPaths.binary(),
                                      arguments: ["serve", "--model", "models/sample", "--port", "0", "--name", "rec"],
                                      logPath: dir + "/serve.log")
        defer { server.signal(SIGKILL) }
        let url = try await server.waitForLine(prefix: "listening:", timeout: 60)
        try await ProcessorClient(name: "readme", baseURL: url).waitReady(timeout: 30)
        let address = String(url.dropFirst("http://".count))
        for example in examples {
            let command = example.command.replacingOccurrences(of: "127.0.0.1:8080", with: address)
            let output = try Self.shell(command)
            #expect(ReadmeExamples.matches(expected: example.output, actual: output),
                    "README example:\n\(example.command)\nREADME shows:\n\(example.output)\nbut it prints:\n\(output)")
        }
        await server.stop(grace: 5)
    }

    // Item 10: a usage error inside a subcommand prints that subcommand's usage.
    @Test func usageErrorsNameTheSubcommand() async throws {
        let dir = try Self.tempDir("usage")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try await Self.odl(["inspect"], dir: dir)
        #expect(missing.code == 64)
        #expect(missing.output.contains("Usage: odl inspect <model-dir>"), "\(missing.output)")
        #expect(!missing.output.contains("Usage: odl <subcommand>"))
        let bad = try await Self.odl(["inspect", dir + "/none"], dir: dir)
        #expect(bad.code == 64)
        #expect(bad.output.contains("Usage: odl inspect <model-dir>"), "\(bad.output)")
        let help = try await Self.odl(["inspect", "--help"], dir: dir)
        #expect(help.output.contains("odl inspect <model-dir>") && !help.output.contains("[<model-dir>]"), "\(help.output)")
        let serve = try await Self.odl(["serve", "--model", Self.sampleExport, "--non-finite-features", "zero"], dir: dir)
        #expect(serve.code == 64)
        #expect(serve.output.contains("--non-finite-features") && serve.output.contains("Usage: odl serve"), "\(serve.output)")
    }

    // Item 11: odl check-config.
    @Test func checkConfigReportsEveryProblemWithAnExitCode() async throws {
        let dir = try Self.tempDir("check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try await Self.odl(["check-config", "--config", Self.root + "/models/demo/pipeline.config"], dir: dir)
        #expect(good.code == 0, "\(good.output)")
        #expect(good.output.contains("OK: 0 error(s), 0 ignored field(s)"))
        var text = try String(contentsOfFile: Self.root + "/models/demo/pipeline.config", encoding: .utf8)
        text = text.replacingOccurrences(of: "  batch_size: 128\n", with: "  batch_sise: 128\n  batch_size: 0\n")
        text = text.replacingOccurrences(of: "hidden_units: [64, 32]", with: "hidden_units: [64, 0]")
        try text.write(toFile: dir + "/bad.config", atomically: true, encoding: .utf8)
        let bad = try await Self.odl(["check-config", "--config", dir + "/bad.config"], dir: dir)
        #expect(bad.code == 1)
        #expect(bad.output.contains("data_config.batch_sise"), "\(bad.output)")
        #expect(bad.output.contains("data_config.batch_size"), "\(bad.output)")
        #expect(bad.output.contains("hidden_units"), "\(bad.output)")
        #expect(bad.output.contains("INVALID: 2 error(s), 1 ignored field(s)"), "\(bad.output)")
        let strict = try await Self.odl(["check-config", "--config", dir + "/bad.config", "--strict"], dir: dir)
        #expect(strict.code == 1)
    }

    // Item 13: --log-format json, and the demo's cosmetics.
    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let dir = try Self.tempDir("jsonlog")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ChildProcess(name: "serve-json", executable: try E2EPaths.binary(),
                                      arguments: ["serve", "--model", Self.sampleExport, "--port", "0", "--log-format", "json"],
                                      logPath: dir + "/serve.log")
        _ = try await server.waitForLine(prefix: "listening:", timeout: 60)
        await server.stop(grace: 5)
        let objects = server.output().split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let loaded = objects.first { $0["message"] as? String == "model loaded" }
        #expect(loaded?["level"] as? String == "info", "\(server.output())")
        #expect(loaded?["logger"] as? String == "odl.serve")
        #expect((loaded?["ts"] as? String)?.hasSuffix("Z") == true)
        // The load time is a plain number of seconds.
        #expect(Double(loaded?["seconds"] as? String ?? "x") != nil, "\(loaded ?? [:])")
        #expect(!server.output().contains("seconds\":\"0.0") || !server.output().contains(" seconds\""))
        let text = server.output().split(separator: "\n").filter { !$0.hasPrefix("{") && !$0.hasPrefix("listening:") }
        #expect(text.isEmpty, "non-JSON log lines: \(text)")
    }

    @Test func demoCosmetics() {
        let now = Date()
        #expect(DemoLog.stamp(since: now, now: now.addingTimeInterval(-0.01)) == "[   0.0s] ")
        #expect(DemoLog.stamp(since: now, now: now.addingTimeInterval(1.5)) == "[   1.5s] ")
        let line = JSONLogHandler.render(event: .init(level: .warning, message: "hi", metadata: ["k": "v"], source: "S",
                                                      file: "f", function: "g", line: 1),
                                         label: "odl.x", metadata: [:], provider: nil, date: Date(timeIntervalSince1970: 0))
        #expect(line == #"{"k":"v","level":"warning","logger":"odl.x","message":"hi","source":"S","ts":"1970-01-01T00:00:00.000Z"}"#)
        // The report's AUC caption says seconds, as README does (updates reach serving in ms).
        let html = DemoReport.html(DemoResults(seed: 7, worldSummary: "", requiredMargin: 0.02))
        #expect(html.contains("within seconds") && !html.contains("minutes after"))
    }
}

/// The checked examples of README.md: a ```sh block right after a `<!-- example -->` line.
enum ReadmeExamples {
    struct Example {
        var command: String
        var output: String
    }

    static func parse(_ readme: String) -> [Example] {
        var examples: [Example] = []
        var armed = false, inBlock = false
        var command: [String] = [], output: [String] = []
        func flush() {
            if !command.isEmpty { examples.append(Example(command: command.joined(separator: "\n"), output: output.joined(separator: "\n"))) }
            command = []
            output = []
        }
        for line in readme.components(separatedBy: "\n") {
            if !inBlock {
                if line.hasPrefix("<!-- example") { armed = true } else if armed, line.hasPrefix("```") { inBlock = true; armed = false }
                continue
            }
            if line.hasPrefix("```") {
                flush()
                inBlock = false
            } else if line.hasPrefix("# ") || line == "#" {
                output.append(String(line.dropFirst(2)))
            } else {
                if !output.isEmpty { flush() }
                command.append(line)
            }
        }
        return examples
    }

    /// Text equal after trimming; JSON documents equal as values (map order is not fixed).
    static func matches(expected: String, actual: String) -> Bool {
        let e = expected.trimmingCharacters(in: .whitespacesAndNewlines), a = actual.trimmingCharacters(in: .whitespacesAndNewlines)
        if e == a { return true }
        guard let x = try? JSONSerialization.jsonObject(with: Data(e.utf8)),
              let y = try? JSONSerialization.jsonObject(with: Data(a.utf8)) else { return false }
        return equal(x, y)
    }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        case let (x as [Any], y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (x as String, y as String): return x == y
        case let (x as NSNumber, y as NSNumber): return x == y
        case (is NSNull, is NSNull): return true
        default: return false
        }
    }
}
