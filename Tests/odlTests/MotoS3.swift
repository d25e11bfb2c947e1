import Foundation
import Storage
@testable import Demo

/// A real S3-compatible server for a test: `scripts/moto_s3.py` (moto in server mode from the
/// `make s3-deps` venv) on a free loopback port, with moto's authentication ON: its first 3
/// requests create an IAM user, key and allow-all-S3 policy; every later request must carry a
/// valid SigV4 signature of that key (a wrong secret gets 403 SignatureDoesNotMatch).
final class MotoS3: Sendable {
    let child: ChildProcess
    let endpoint: String
    let accessKey: String
    let secretKey: String
    let bucket: String

    static var python: String { NSHomeDirectory() + "/.cache/odl/s3-venv/bin/python" }

    init(dir: String, bucket: String = "odl-test") async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw E2EError("\(Self.python) is missing: run `make s3-deps` (moto[server] + boto3 venv)")
        }
        child = try ChildProcess(name: "moto", executable: Self.python,
                                 arguments: [E2EPaths.packageRoot + "/scripts/moto_s3.py", bucket], logPath: dir + "/moto.log")
        let line = try await child.waitForLine(prefix: "{\"endpoint\"", timeout: 90)
        guard let obj = try JSONSerialization.jsonObject(with: Data(("{\"endpoint\"" + line).utf8)) as? [String: Any],
              let e = obj["endpoint"] as? String, let ak = obj["ak"] as? String, let sk = obj["sk"] as? String else {
            throw E2EError("moto printed an unexpected line: \(line)")
        }
        endpoint = e
        accessKey = ak
        secretKey = sk
        self.bucket = bucket
    }

    /// `--oss-endpoint ... --oss-ak ... --oss-sk ...` for an odl command.
    func flags(secret: String? = nil) -> [String] {
        ["--oss-endpoint", endpoint, "--oss-ak", accessKey, "--oss-sk", secret ?? secretKey]
    }

    var settings: StorageSettings { StorageSettings(endpoint: endpoint, accessKey: accessKey, secretKey: secretKey) }

    func url(_ key: String) -> String { "s3://\(bucket)/\(key)" }

    func location(_ key: String) throws -> StorageLocation { try Storage.location(url(key), settings: settings) }

    func stop() async { await child.stop(grace: 5) }

    deinit { if child.isRunning { child.signal(SIGKILL) } }
}
