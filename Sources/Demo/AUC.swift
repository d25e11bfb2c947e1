/// Exact ROC AUC (Mann-Whitney U with average ranks for ties); nil when one class is absent.
func rocAUC(scores: [Double], labels: [Int]) -> Double? {
    precondition(scores.count == labels.count, "rocAUC: scores and labels differ in length")
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var positives = 0.0, negatives = 0.0, rankSumPositives = 0.0
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
        let averageRank = Double(i + j) / 2 + 1
        for t in i...j {
            if labels[order[t]] != 0 { positives += 1; rankSumPositives += averageRank } else { negatives += 1 }
        }
        i = j + 1
    }
    guard positives > 0, negatives > 0 else { return nil }
    return (rankSumPositives - positives * (positives + 1) / 2) / (positives * negatives)
}

/// Mean log loss of probabilities against labels (probabilities clipped to [1e-7, 1-1e-7]).
func logLoss(probabilities: [Double], labels: [Int]) -> Double? {
    guard !probabilities.isEmpty, probabilities.count == labels.count else { return nil }
    var sum = 0.0
    for (p, y) in zip(probabilities, labels) {
        let q = min(max(p, 1e-7), 1 - 1e-7)
        sum -= y != 0 ? _logD(q) : _logD(1 - q)
    }
    return sum / Double(labels.count)
}

/// Quantile (nearest rank) of an unsorted sample; nil when empty.
func quantile(_ values: [Double], _ q: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let s = values.sorted()
    let rank = Int((q * Double(s.count)).rounded(.up)) - 1
    return s[min(max(rank, 0), s.count - 1)]
}

import Foundation
@inline(__always) private func _logD(_ x: Double) -> Double { Foundation.log(x) }
