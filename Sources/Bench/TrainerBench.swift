import Foundation
import Trainer

/// `odl bench trainer`: the trainer module's own throughput benchmark (demo-sized model).
package struct TrainerBench {
    package var batchSize: Int = 512
    package var steps: Int = 60
    package var threads: Int = 2

    package init(batchSize: Int = 512, steps: Int = 60, threads: Int = 2) {
        self.batchSize = batchSize
        self.steps = steps
        self.threads = threads
    }

    package func run() throws {
        let report = TrainerBenchmark.run(batchSize: batchSize, steps: steps, threads: threads)
        var object: [String: Any] = ["report": report, "batch_size": batchSize, "steps": steps, "threads": threads]
        // "train N samples/s wall" is the figure; the report format is TrainerBenchmark's.
        if let r = report.range(of: #"train ([0-9.]+) samples/s"#, options: .regularExpression) {
            let number = report[r].split(separator: " ")[1]
            object["train_samples_per_s"] = Double(number) ?? 0
        }
        if let r = report.range(of: #"predict ([0-9.]+) samples/s"#, options: .regularExpression) {
            object["predict_samples_per_s"] = Double(report[r].split(separator: " ")[1]) ?? 0
        }
        try BenchSupport.emit(object)
    }
}

