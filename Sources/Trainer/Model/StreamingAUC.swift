/// Streaming AUC like `tf.metrics.auc` (ROC, trapezoidal, `thresholds` evenly spaced in
/// [0, 1] plus -eps and 1+eps): predictions are bucketed, so memory is O(thresholds).
public struct StreamingAUC: Sendable {
    public let thresholds: Int
    /// Per bucket (number of thresholds strictly below the prediction): positives, negatives.
    private var positives: [Double]
    private var negatives: [Double]
    /// Items seen since the last reset.
    public private(set) var count: Int = 0

    public init(thresholds: Int = 200) {
        self.thresholds = max(thresholds, 3)
        positives = Array(repeating: 0, count: self.thresholds + 1)
        negatives = Array(repeating: 0, count: self.thresholds + 1)
    }

    /// Add predictions with their labels (label > 0.5 counts as positive); extra elements of
    /// the longer array are ignored. NaN predictions count as 0.
    public mutating func update(probs: [Float], labels: [Float]) {
        let n = thresholds
        for (p, y) in zip(probs, labels) {
            let x = p.isNaN ? 0 : min(max(Double(p), 0), 1)
            // thresholds: t0 = -eps, t_i = i/(n-1) (i = 1..n-2), t_{n-1} = 1+eps.
            let inner = min(max(Int((x * Double(n - 1)).rounded(.up)) - 1, 0), n - 2)
            let bucket = 1 + inner
            if y > 0.5 { positives[bucket] += 1 } else { negatives[bucket] += 1 }
            count += 1
        }
    }

    /// Area under the ROC curve over everything seen (0 when one class is absent, like TF's
    /// epsilon-guarded formula).
    public var value: Double {
        let n = thresholds
        let totalP = positives.reduce(0, +), totalN = negatives.reduce(0, +)
        let eps = 1e-7
        // tp[i] / fp[i]: items with bucket > i, i.e. prediction above threshold i.
        var tpr = [Double](repeating: 0, count: n), fpr = [Double](repeating: 0, count: n)
        var tp = totalP, fp = totalN
        for i in 0..<n {
            tp -= positives[i]
            fp -= negatives[i]
            tpr[i] = tp / (totalP + eps)
            fpr[i] = fp / (totalN + eps)
        }
        var auc = 0.0
        for i in 0..<(n - 1) { auc += (fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2 }
        return auc
    }

    public mutating func reset() {
        for i in positives.indices { positives[i] = 0; negatives[i] = 0 }
        count = 0
    }
}
