import Bench
import Foundation
import Testing

/// Throughput report; runs only with ODL_BENCH=1 (use a release build:
/// `swift test -c release -Xswiftc -enable-testing --filter ModelBenchmark`).
@Suite("Model benchmark")
struct ModelBenchmarkTests {
    @Test("training throughput", .enabled(if: ProcessInfo.processInfo.environment["ODL_BENCH"] != nil))
    func throughput() {
        for finalDnn in [nil, [64, 32]] as [[Int]?] {
            for threads in [1, 2] {
                let report = TrainerBenchmark.run(batchSize: 512, steps: 60, finalDnn: finalDnn, threads: threads)
                print(report)
                #expect(report.contains("samples/s"))
            }
        }
    }
}
