import DataHub
import Hummingbird
import Logging

/// `odl datahub`: the embedded DataHub endpoint on a loopback port until its task is cancelled
/// (the CLI cancels on SIGTERM/SIGINT).
public enum DataHubEndpoint {
    /// Serves `responder` on `host:port` (0: a free port); `onListening` gets the bound port.
    public static func run(responder: DataHubResponder, host: String, port: Int, logger: Logger,
                           onListening: @escaping @Sendable (Int) -> Void) async throws {
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
    }
}
