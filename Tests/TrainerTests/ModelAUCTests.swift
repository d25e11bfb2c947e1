import Foundation
import Testing
@testable import Trainer

@Suite("Model streaming AUC")
struct ModelAUCTests {
    /// Exact AUC: probability a random positive scores above a random negative (ties 1/2).
    static func exact(_ p: [Float], _ y: [Float]) -> Double {
        let pos = zip(p, y).filter { $0.1 > 0.5 }.map(\.0), neg = zip(p, y).filter { $0.1 <= 0.5 }.map(\.0)
        var s = 0.0
        for a in pos { for b in neg { s += a > b ? 1 : (a == b ? 0.5 : 0) } }
        return s / Double(pos.count * neg.count)
    }

    @Test("bucketed AUC is close to the exact AUC")
    func matchesExact() {
        var rng = ParameterInit.Random(3)
        var probs: [Float] = [], labels: [Float] = []
        for _ in 0..<3000 {
            let y: Float = rng.unit() < 0.3 ? 1 : 0
            let z = (y > 0 ? 0.8 : 0) + rng.truncatedNormal()
            probs.append(Float(1 / (1 + exp(-z))))
            labels.append(y)
        }
        var auc = StreamingAUC()
        auc.update(probs: Array(probs[..<1000]), labels: Array(labels[..<1000]))
        auc.update(probs: Array(probs[1000...]), labels: Array(labels[1000...]))
        #expect(auc.count == 3000)
        let want = Self.exact(probs, labels)
        #expect(abs(auc.value - want) < 0.01, "bucketed \(auc.value) exact \(want)")
        #expect(want > 0.6)
    }

    @Test("separable, inverted, one-class and reset")
    func edges() {
        var auc = StreamingAUC()
        auc.update(probs: [0.1, 0.2, 0.8, 0.9], labels: [0, 0, 1, 1])
        #expect(auc.value > 0.99)
        auc.reset()
        #expect(auc.count == 0)
        auc.update(probs: [0.1, 0.2, 0.8, 0.9], labels: [1, 1, 0, 0])
        #expect(auc.value < 0.01)
        auc.reset()
        auc.update(probs: [0.3, 0.6], labels: [1, 1])
        #expect(auc.value == 0)
        auc.reset()
        auc.update(probs: [0.5, 0.5, 0.5, 0.5], labels: [1, 0, 1, 0])
        #expect(abs(auc.value - 0.5) < 1e-6)
    }
}
