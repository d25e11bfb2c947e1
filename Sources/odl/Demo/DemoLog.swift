import Foundation

/// Unbuffered progress output (stdout may be a pipe under `make`).
enum DemoLog {
    static let start = Date()

    static func say(_ line: String) {
        let t = String(format: "[%6.1fs] ", Date().timeIntervalSince(start))
        FileHandle.standardOutput.write(Data((t + line + "\n").utf8))
    }

    static func raw(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
