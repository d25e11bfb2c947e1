import ArgumentParser
import Config
import Foundation

/// `odl check-config --config X`: validate a pipeline config without running anything (no broker).
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a pipeline config and list every problem and ignored field (no broker needed).",
        discussion: """
        Prints one line per problem (file:line:column: field: reason) and per ignored field, then a summary.
        Exit status 0 when the config is valid (ignored fields are warnings; --strict makes them errors), 1 otherwise.
        """)

    @Option(help: "Pipeline config file (EasyRec protobuf text format).")
    var config: String

    @Option(name: .customLong("edit-config-json"), help: "JSON object of dotted config paths to new values, applied before checking.")
    var editConfigJson: String?

    @Flag(help: "Treat ignored (unsupported or misspelled) fields as errors.")
    var strict = false

    func run() throws {
        let checked = PipelineConfig.check(path: config)
        var loaded = checked.config, problems = checked.problems
        let warnings = checked.warnings
        if var c = loaded, let edits = editConfigJson {
            do {
                try c.applyEdits(json: edits)
            } catch {
                problems += error.all
            }
            loaded = c
        }
        for w in warnings { print("warning: \(w.asProblem.description)") }
        for p in problems { print("error: \(p.description)") }
        let failed = !problems.isEmpty || (strict && !warnings.isEmpty)
        print("\(config): \(failed ? "INVALID" : "OK"): \(problems.count) error(s), \(warnings.count) ignored field(s)")
        if failed { throw ExitCode.failure }
    }
}
