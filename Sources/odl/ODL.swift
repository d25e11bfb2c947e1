import ArgumentParser

/// `odl`: online deep learning for recommendation — serving processor, streaming trainer,
/// exporter and an embedded Kafka-protocol broker.
@main
struct ODL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "odl",
        abstract: "Online deep learning for recommendation: serve, train, export, broker.",
        subcommands: ODL.available
    )

    /// Subcommands of the modules present in this build.
    static var available: [any ParsableCommand.Type] {
        var list: [any ParsableCommand.Type] = []
        #if canImport(Kafka)
        list.append(BrokerCommand.self)
        #endif
        #if canImport(FG)
        list.append(FGCommand.self)
        #endif
        #if canImport(Inference)
        list.append(InspectCommand.self)
        #endif
        #if canImport(Processor)
        list.append(ServeCommand.self)
        #endif
        #if canImport(Trainer)
        list.append(TrainCommand.self)
        list.append(ExportCommand.self)
        #endif
        #if canImport(FG) && canImport(Config) && canImport(Kafka)
        list.append(GenCommand.self)
        list.append(DemoCommand.self)
        #endif
        return list
    }
}
