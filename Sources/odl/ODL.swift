import ArgumentParser

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
            FGCommand.self,
            InspectCommand.self,
            DemoCommand.self,
            GenCommand.self,
            BenchCommand.self,
        ]
    )
}
