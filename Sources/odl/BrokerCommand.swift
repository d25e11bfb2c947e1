import ArgumentParser
import Foundation
import Kafka

/// `odl broker`: runs the embedded Kafka-protocol broker until SIGTERM/SIGINT.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka-protocol broker (librdkafka mock cluster) on 127.0.0.1.",
        discussion: """
            Prints "bootstrap: HOST:PORT[,...]" on stdout once ready (and writes the same address to \
            --bootstrap-file, atomically), then serves until SIGTERM or SIGINT and exits 0.
            Outage control for tests: SIGUSR1 takes all brokers down (connections refused, data kept), \
            SIGUSR2 brings them back up; each prints a line ("brokers: down" / "brokers: up").
            Limits: data lives in memory only (lost on exit); each partition keeps about 5 MiB; \
            topics auto-create with 4 partitions; CreateTopics and ListOffsets-by-timestamp are not \
            implemented (the odl clients work around both).
            """
    )

    @Option(name: .long, help: "Number of brokers in the cluster.")
    var brokers: Int = 1

    @Option(name: .long, help: "Topic to pre-create, as NAME:PARTITIONS (repeatable).")
    var topic: [String] = []

    @Option(name: .long, help: "Write the bootstrap address to this file once ready (atomic).")
    var bootstrapFile: String?

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be >= 1, got \(brokers)") }
        for t in topic { _ = try Self.parseTopic(t) }
    }

    static func parseTopic(_ spec: String) throws -> (name: String, partitions: Int) {
        guard let colon = spec.lastIndex(of: ":") else {
            throw ValidationError("--topic '\(spec)': expected NAME:PARTITIONS")
        }
        let name = String(spec[..<colon])
        guard !name.isEmpty, let partitions = Int(spec[spec.index(after: colon)...]), partitions > 0 else {
            throw ValidationError("--topic '\(spec)': expected NAME:PARTITIONS with PARTITIONS > 0")
        }
        return (name, partitions)
    }

    func run() async throws {
        let signals = SignalStream([SIGTERM, SIGINT, SIGUSR1, SIGUSR2])
        signal(SIGPIPE, SIG_IGN)   // a vanished reader of stdout must not kill the broker
        let broker = try EmbeddedBroker(brokers: brokers)
        for spec in topic {
            let t = try Self.parseTopic(spec)
            try broker.createTopic(name: t.name, partitions: t.partitions)
        }
        if let bootstrapFile {
            try Data((broker.bootstrap + "\n").utf8).write(to: URL(fileURLWithPath: bootstrapFile), options: .atomic)
        }
        say("bootstrap: \(broker.bootstrap)")
        for await sig in signals.stream {
            switch sig {
            case SIGUSR1:
                try broker.setAllBrokers(down: true)
                say("brokers: down")
            case SIGUSR2:
                try broker.setAllBrokers(down: false)
                say("brokers: up")
            default:
                say("broker: stopping (signal \(sig))")
                broker.close()
                return
            }
        }
    }

    private func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}
