import Foundation

/// A model output the predict API can return per item (`PBResponse.outputs`).
public enum ModelOutput: String, Sendable, CaseIterable {
    case probs, logits

    /// Parse `--outputs probs,logits`; errors name the unknown entry.
    public static func parseList(_ text: String) throws(PredictFailure) -> [ModelOutput] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw PredictFailure("outputs: empty list (use probs, logits)") }
        var result: [ModelOutput] = []
        for name in names {
            guard let o = ModelOutput(rawValue: name) else {
                throw PredictFailure("outputs: unknown output \"\(name)\" (known: probs, logits)")
            }
            result.append(o)
        }
        return result
    }
}
