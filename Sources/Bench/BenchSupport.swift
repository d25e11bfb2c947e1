import Foundation
import Inference
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Helpers shared by the `odl bench` subcommands: clock, statistics, RSS, JSON output, RNG.
enum BenchSupport {
    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// CPU seconds of the calling thread (unlike `now()`, not inflated when other processes
    /// share the cores).
    static func threadCPUNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Wall-clock unix seconds (comparable across processes).
    static func unixNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func median(_ xs: [Double]) -> Double {
        percentile(xs, 50)
    }

    /// Nearest-rank percentile (p in 0...100); 0 for an empty list.
    static func percentile(_ xs: [Double], _ p: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        let rank = Int((p / 100 * Double(s.count)).rounded(.up)) - 1
        return s[min(max(rank, 0), s.count - 1)]
    }

    /// Resident memory of this process (VmRSS), bytes.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.filter(\.isNumber)) ?? 0) * 1024
        }
        return 0
    }

    /// Prints one JSON object on a line of its own (the orchestrator reads the last line).
    static func emit(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Parses "256,128,64" into positive integers; the flag names the option in errors.
    static func intList(_ text: String, flag: String) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw BenchError("\(flag): \"\(part)\" is not a positive integer")
            }
            out.append(v)
        }
        return out
    }
}

/// A benchmark setup or measurement failure, with what was being done.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// SplitMix64: deterministic parameters, ids and keys.
struct BenchRng {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-scale, scale).
    mutating func uniform(_ scale: Float) -> Float { (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
