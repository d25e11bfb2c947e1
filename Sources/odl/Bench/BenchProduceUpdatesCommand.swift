import ArgumentParser
import Bench

/// `odl bench produce-updates`: the arguments of ``ProduceUpdatesBench``.
struct BenchProduceUpdatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce-updates",
        abstract: "Produce sparse updates at a row rate (update load) or a byte volume (replay data); prints JSON.")

    @Option(name: .long, help: "Kafka bootstrap servers.")
    var bootstrap: String
    @Option(name: .long, help: "Update topic.")
    var topic: String
    @Option(name: .long, help: "Partition to write.")
    var partition: Int32 = 0
    @Option(name: .long, help: "Spread messages round-robin over partitions 0..<N instead (N > 0).")
    var spread: Int32 = 0
    @Option(name: .long, help: "Export whose model the updates fit.")
    var export: String
    @Option(name: .long, help: "Rows per second (0: as fast as possible).")
    var rate: Int = 0
    @Option(name: .long, help: "Stop after this many seconds.")
    var seconds: Double?
    @Option(name: .long, help: "Stop after this many bytes.")
    var bytes: Int?
    @Option(name: .long, help: "Rows per message.")
    var rowsPerMessage: Int = 1000
    @Option(name: .long, help: "First global step.")
    var startStep: Int = 1
    @Option(name: .long, help: "Most unacknowledged messages.")
    var maxInFlight: Int = 256

    func run() async throws {
        try await ProduceUpdatesBench(bootstrap: bootstrap, topic: topic, partition: partition, spread: spread,
                                      export: export, rate: rate, seconds: seconds, bytes: bytes,
                                      rowsPerMessage: rowsPerMessage, startStep: startStep,
                                      maxInFlight: maxInFlight).run()
    }
}
