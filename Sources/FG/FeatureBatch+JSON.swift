import JSON
extension FeatureBatch {
    /// One item's values as a JSON object in slot order: ids as strings, float outputs as
    /// numbers, weighted ids as `{"id": ..., "weight": ...}`.
    public func renderJSON(item: Int) -> String {
        var out = "{"
        for s in 0..<names.count {
            if s > 0 { out += "," }
            out += JSONText.quote(names[s]) + ":["
            var first = true
            for e in entryRange(slot: s, item: item) {
                if !first { out += "," }
                first = false
                if isBareNumber(e) {
                    let x = numbers[e]
                    out += x.isFinite ? x.description : JSONText.quote(x.description)
                } else {
                    let text = JSONText.quote(String(decoding: bytes[Int(bounds[e])..<Int(bounds[e + 1])], as: UTF8.self))
                    if slotWeighted[s] {
                        let w = weights[e]
                        out += "{\"id\":" + text + ",\"weight\":" + (w.isFinite ? w.description : "0") + "}"
                    } else {
                        out += text
                    }
                }
            }
            out += "]"
        }
        return out + "}"
    }
}
