import ArgumentParser
import Foundation

/// `odl`: online deep learning for recommendation — serving processor, streaming trainer,
/// exporter and an embedded Kafka-protocol broker.
@main
struct ODL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odl",
        abstract: "Online deep learning for recommendation: serve, train, export, broker.",
        subcommands: [
            ServeCommand.self,
            TrainCommand.self,
            ExportCommand.self,
            ImportCommand.self,
            BrokerCommand.self,
            DataHubCommand.self,
            FGCommand.self,
            InspectCommand.self,
            DemoCommand.self,
            GenCommand.self,
            BenchCommand.self,
            CheckConfigCommand.self,
        ]
    )

    /// As ArgumentParser's `main`, but a usage error raised inside a subcommand's `run()` prints
    /// that subcommand's usage, not the generic `Usage: odl <subcommand>`.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot(nil)
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            let sub = type(of: command)
            FileHandle.standardError.write(Data((usageError(error.message, command: sub) + "\n").utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }

    /// `Error: ...`, then the subcommand's own usage line and where its help is.
    static func usageError(_ message: String, command: any ParsableCommand.Type) -> String {
        let usage = command.usageString()
        let name = command.configuration.commandName ?? "odl"
        let full = usage.hasPrefix("odl ") ? usage : "odl " + usage
        return "Error: \(message)\nUsage: \(full)\n  See 'odl \(name) --help' for more information."
    }
}
