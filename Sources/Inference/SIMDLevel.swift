import Foundation

/// The widest SIMD kernel set this CPU runs: AVX-512 (F, BW, DQ, VL, as `-target-cpu
/// skylake-avx512` emits) or the AVX2+FMA baseline the numeric modules are built for.
/// `ODL_SIMD=avx2` in the environment forces the baseline (for comparisons and tests).
public enum SIMDLevel: String, Sendable {
    case avx2
    case avx512

    /// Detected once per process from `/proc/cpuinfo` (the kernel lists only the features it
    /// enabled, so the OS-saves-zmm-state condition is included).
    public static let current: SIMDLevel = detect(cpuinfo: readCPUInfo(), environment: getenv("ODL_SIMD").map { String(cString: $0) })

    /// The level for a `/proc/cpuinfo` text and an `ODL_SIMD` override.
    static func detect(cpuinfo: String?, environment: String?) -> SIMDLevel {
        if environment?.lowercased() == "avx2" { return .avx2 }
        #if arch(x86_64) && os(Linux)
        guard let cpuinfo, let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return .avx2 }
        let flags = Set(line.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) ? .avx512 : .avx2
        #else
        return .avx2
        #endif
    }

    private static func readCPUInfo() -> String? {
        #if os(Linux)
        return try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        #else
        return nil
        #endif
    }
}
