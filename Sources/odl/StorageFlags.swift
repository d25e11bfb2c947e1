import ArgumentParser
import Storage

/// `--oss-endpoint`, `--oss-ak`, `--oss-sk` (EasyRec's names): where `s3://` and `oss://`
/// paths live and the keys to sign with. Each defaults to `ODL_OSS_ENDPOINT`/`_AK`/`_SK`.
struct StorageFlags: ParsableArguments {
    @Option(name: .customLong("oss-endpoint"), help: "Object-store endpoint for s3:// and oss:// paths (host[:port] or http(s)://...; ODL_OSS_ENDPOINT).")
    var ossEndpoint: String?

    @Option(name: .customLong("oss-ak"), help: "Object-store access key id (ODL_OSS_AK).")
    var ossAk: String?

    @Option(name: .customLong("oss-sk"), help: ArgumentHelp("Object-store secret key (ODL_OSS_SK; never logged).", valueName: "secret"))
    var ossSk: String?

    /// Makes these settings the process-wide ones.
    func apply() {
        StorageSettings.shared = StorageSettings.fromEnvironment().overriding(endpoint: ossEndpoint, accessKey: ossAk, secretKey: ossSk)
    }
}
