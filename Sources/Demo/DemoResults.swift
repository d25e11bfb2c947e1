import Foundation

/// Scores of both processors for every item of today, in stream order (progressive validation:
/// each was scored before its sample was produced to the training topic).
struct ScoredItem: Sendable {
    var page: Int
    var label: Int
    var isNew: Bool
    var trueProbability: Double
    var staticScore: Double
    var liveScore: Double
}

/// AUCs of one slice of the stream.
struct AUCRow: Sendable {
    var name: String
    var count: Int
    var staticAUC: Double?
    var liveAUC: Double?
    var trueAUC: Double?
    var staticLogLoss: Double?
    var liveLogLoss: Double?

    init(name: String, items: [ScoredItem]) {
        self.name = name
        count = items.count
        let labels = items.map(\.label)
        staticAUC = rocAUC(scores: items.map(\.staticScore), labels: labels)
        liveAUC = rocAUC(scores: items.map(\.liveScore), labels: labels)
        trueAUC = rocAUC(scores: items.map(\.trueProbability), labels: labels)
        staticLogLoss = logLoss(probabilities: items.map(\.staticScore), labels: labels)
        liveLogLoss = logLoss(probabilities: items.map(\.liveScore), labels: labels)
    }

    var margin: Double? { liveAUC.flatMap { l in staticAUC.map { l - $0 } } }
}

/// One point of the AUC-over-time chart.
struct AUCWindow: Sendable {
    var firstPage: Int
    var lastPage: Int
    var all: AUCRow
    var new: AUCRow
}

/// Result of the kill -9 / restart / replay check.
struct RestartCheck: Sendable {
    var requests: Int
    var items: Int
    var identical: Bool
    var maxAbsDifference: Double
    var checksumBefore: String?
    var checksumAfter: String?
    var replaySeconds: Double
    var messagesReplayed: Int?
}

/// Everything the demo measured; printed as a table and rendered into report.html.
struct DemoResults: Sendable {
    var seed: UInt64
    var worldSummary: String
    var scored: [ScoredItem] = []
    var windows: [AUCWindow] = []
    var freshness: [Double] = []
    var processorFreshnessMean: Double?
    var processorFreshnessMax: Double?
    var updateMessages = 0
    var updateBytes = 0
    var messagesApplied: Int?
    var messagesRejected: Int?
    var rowsApplied: Int?
    var denseStep: Int64?
    var sparseStep: Int64?
    var restart: RestartCheck?
    var phases: [(name: String, seconds: Double)] = []
    var requiredMargin: Double
    var streamSeconds = 0.0
    var samplesStreamed = 0

    var allRow: AUCRow { AUCRow(name: "all items", items: scored) }
    var newRow: AUCRow { AUCRow(name: "items born today", items: scored.filter(\.isNew)) }
    var oldRow: AUCRow { AUCRow(name: "items born before today", items: scored.filter { !$0.isNew }) }

    /// Margin of live over static AUC on new items (nil when not computable).
    var newItemMargin: Double? { newRow.margin }
    var passed: Bool { (newItemMargin ?? -1) >= requiredMargin && (restart?.identical ?? false) }

    static func f(_ v: Double?, _ digits: Int = 4) -> String {
        guard let v else { return "-" }
        return String(format: "%.\(digits)f", v)
    }

    /// The plain-text result table.
    func table() -> String {
        var lines: [String] = []
        func row(_ cells: [String], _ widths: [Int]) -> String {
            zip(cells, widths).map { c, w in c.padding(toLength: max(w, c.count), withPad: " ", startingAt: 0) }
                .joined(separator: " | ")
        }
        let w = [24, 8, 11, 11, 9, 11]
        lines.append(row(["AUC (progressive)", "items", "static", "live", "margin", "truth"], w))
        lines.append(w.map { String(repeating: "-", count: $0) }.joined(separator: "-+-"))
        for r in [allRow, newRow, oldRow] {
            lines.append(row([r.name, "\(r.count)", Self.f(r.staticAUC), Self.f(r.liveAUC),
                              (r.margin.map { $0 >= 0 ? "+" : "" } ?? "") + Self.f(r.margin), Self.f(r.trueAUC)], w))
        }
        let all = allRow
        lines.append(row(["log loss, all items", "\(all.count)", Self.f(all.staticLogLoss), Self.f(all.liveLogLoss), "", ""], w))
        lines.append("")
        lines.append("update freshness (trainer send -> applied by the live processor, measured outside): "
                     + "p50 \(Self.f(quantile(freshness, 0.5), 3)) s, p99 \(Self.f(quantile(freshness, 0.99), 3)) s, "
                     + "max \(Self.f(freshness.max(), 3)) s over \(freshness.count) messages")
        lines.append("processor-reported freshness: mean \(Self.f(processorFreshnessMean, 3)) s, max \(Self.f(processorFreshnessMax, 3)) s")
        lines.append("update messages on the topic: \(updateMessages) (\(String(format: "%.2f", Double(updateBytes) / 1_048_576)) MiB); "
                     + "live processor applied \(messagesApplied.map(String.init) ?? "-") messages "
                     + "(\(messagesRejected.map(String.init) ?? "-") rejected), \(rowsApplied.map(String.init) ?? "-") rows; "
                     + "dense step \(denseStep.map(String.init) ?? "-"), sparse step \(sparseStep.map(String.init) ?? "-")")
        lines.append("stream: \(samplesStreamed) samples in \(String(format: "%.1f", streamSeconds)) s")
        if let r = restart {
            lines.append("restart after kill -9: replay to ready in \(String(format: "%.2f", r.replaySeconds)) s"
                         + "\(r.messagesReplayed.map { " (\($0) messages)" } ?? ""); "
                         + "\(r.items) predictions of \(r.requests) requests \(r.identical ? "IDENTICAL" : "DIFFERENT") "
                         + "(max |diff| \(String(format: "%.3g", r.maxAbsDifference))); checksum "
                         + "\(r.checksumBefore ?? "-") -> \(r.checksumAfter ?? "-")")
        }
        lines.append("new-item margin (live - static AUC): \((newItemMargin.map { $0 >= 0 ? "+" : "" } ?? ""))\(Self.f(newItemMargin)) "
                     + "(required >= \(Self.f(requiredMargin, 3))): \(passed ? "PASS" : "FAIL")")
        return lines.joined(separator: "\n")
    }
}
