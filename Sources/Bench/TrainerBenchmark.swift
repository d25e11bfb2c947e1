import Foundation
import FG
import Inference
import Trainer

/// Measures training and prediction throughput of the demo-sized DeepFM (18 features, dim 16,
/// dnn 128-64-32 with batch norm, Adam) on synthetic batches; returns a human-readable report.
package enum TrainerBenchmark {
    package static func run(batchSize: Int = 512, steps: Int = 60, finalDnn: [Int]? = nil, threads: Int = 1) -> String {
        let dim = 16
        var stream = SyntheticModel.Stream(singleFeatures: 16, cardinality: 100_000, keyPool: 200_000, seed: 7)
        let columns = stream.columns(dim: dim)
        let all = Array(columns.indices)
        let spec = SyntheticModel.spec(columns: columns, wide: all, deep: all, dim: dim, dnn: [128, 64, 32],
                                       finalDnn: finalDnn, l2: 1e-5, embeddingRegularization: 1e-7)
        let settings = OptimizerSettings(kind: .defaultAdam, learningRate: .constant(0.001))
        let model: TrainableDeepFM
        do {
            model = try TrainableDeepFM(spec: spec, parameters: TrainableDeepFM.initialParameters(spec: spec, seed: 1),
                                        optimizer: settings, threads: threads)
        } catch {
            return "benchmark model could not be built: \(error)"
        }
        var batches: [(EncodedBatch, [Float])] = []
        for _ in 0..<20 {
            var b = EncodedBatch(columnCount: columns.count)
            let labels = stream.next(into: &b, size: batchSize)
            batches.append((b, labels))
        }
        for i in 0..<3 { _ = model.trainStep(batch: batches[i].0, labels: batches[i].1) }
        let clock = ContinuousClock()
        var lossSum: Float = 0
        var auc = StreamingAUC()
        let cpu0 = processCPUSeconds()
        let trainTime = clock.measure {
            for s in 0..<steps {
                let (b, l) = batches[s % batches.count]
                let r = model.trainStep(batch: b, labels: l)
                lossSum += r.loss
                auc.update(probs: r.probs, labels: l)
            }
        }
        let cpu1 = processCPUSeconds()
        let predictTime = clock.measure {
            for s in 0..<steps { _ = model.predict(batch: batches[s % batches.count].0) }
        }
        let cpu2 = processCPUSeconds()
        func perSecond(_ d: Duration) -> Double {
            let secs = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            return Double(steps * batchSize) / max(secs, 1e-9)
        }
        let head = finalDnn.map { "final_dnn \($0)" } ?? "deep_logits"
        return "TrainerBenchmark: \(columns.count) features dim \(dim), dnn 128-64-32 BN, \(head), Adam, "
            + "batch \(batchSize), \(threads) thread(s): "
            + String(format: "train %.0f samples/s wall (%.0f per CPU-second), predict %.0f samples/s wall "
                     + "(%.0f per CPU-second); mean loss %.4f, train AUC %.3f",
                     perSecond(trainTime), Double(steps * batchSize) / max(cpu1 - cpu0, 1e-9),
                     perSecond(predictTime), Double(steps * batchSize) / max(cpu2 - cpu1, 1e-9),
                     Double(lossSum) / Double(steps), auc.value)
    }
}

/// CPU time consumed by this process (all threads), seconds.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
