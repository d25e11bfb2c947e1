import Foundation
import Storage
@testable import Demo

/// A real S3-compatible server for a test: `scripts/moto_s3.py` (moto in server mode from the
/// `make s3-deps` venv) on a free loopback port, with moto's authentication ON: its first 3
/// requests create an IAM user, key and allow-all-S3 policy; every later request must carry a
/// valid SigV4 signature of that key (a wrong secret gets 403 SignatureDoesNotMatch).
/// `holdParts` (the script's MOTO_HOLD_PARTS) makes chosen part uploads hang; see ``waitHeld(_:while:timeout:)``.
final class MotoS3: Sendable {
    let child: ChildProcess
    let endpoint: String
    let accessKey: String
    let secretKey: String
    let bucket: String

    static var python: String { NSHomeDirectory() + "/.cache/odl/s3-venv/bin/python" }

    /// `holdParts`: "key text:part number" rules; the first UploadPart of a key containing the
    /// text with that part number is never answered while the server runs.
    init(dir: String, bucket: String = "odl-test", holdParts: [String] = []) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw E2EError("\(Self.python) is missing: run `make s3-deps` (moto[server] + boto3 venv)")
        }
        child = try ChildProcess(name: "moto", executable: Self.python,
                                 arguments: [E2EPaths.packageRoot + "/scripts/moto_s3.py", bucket], logPath: dir + "/moto.log",
                                 environment: holdParts.isEmpty ? [:] : ["MOTO_HOLD_PARTS": holdParts.joined(separator: ",")])
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

    /// Waits until moto holds a part upload of a key under `prefix` (a `holdParts` rule matched):
    /// that multipart upload is then in flight and cannot complete. Returns the held part number;
    /// throws when `client` exits first or nothing is held within `timeout` seconds.
    func waitHeld(_ prefix: String, while client: ChildProcess, timeout: Double = 60) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        let marker = "{\"held\": \"/\(bucket)/\(prefix)"
        while Date() < deadline {
            for line in child.output().split(whereSeparator: \.isNewline) where line.hasPrefix(marker) {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let part = obj["part"] as? Int else { throw E2EError("moto printed an unexpected line: \(line)") }
                return part
            }
            guard client.isRunning else { throw E2EError("\(client.name) ended before a part upload under \(prefix) was held:\n\(client.tail())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw E2EError("no part upload under \(prefix) held within \(Int(timeout)) s")
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
