/// How one field of a training sample line is split into values.
public struct SampleField: Sendable, Equatable {
    public var name: String
    /// Byte separating the values of a multi-value field (nil: the field is one value).
    public var separator: UInt8?
    /// Byte separating an id from its weight (`id<kv>weight`, split at the last one); nil: unweighted.
    public var kvSeparator: UInt8?
    /// Bypass mode: the value used when a request lacks the field (`input_fields.default_val`,
    /// as EasyRec's trainer and processor fill it); nil or empty: the field stays missing.
    public var defaultValue: String?

    public init(name: String, separator: UInt8? = nil, kvSeparator: UInt8? = nil, defaultValue: String? = nil) {
        self.name = name
        self.separator = separator
        self.kvSeparator = kvSeparator
        self.defaultValue = defaultValue
    }
}

/// The fields of a sample line in order (`data_config.input_fields`), labels included.
public struct SampleSchema: Sendable, Equatable {
    public var fields: [SampleField]

    public init(fields: [SampleField]) { self.fields = fields }

    public var names: [String] { fields.map(\.name) }

    /// The schema with `defaults` (field name -> `default_val`) filled in for bypass requests.
    public func withDefaults(_ defaults: [String: String]) -> SampleSchema {
        var copy = self
        for i in copy.fields.indices { copy.fields[i].defaultValue = defaults[copy.fields[i].name] }
        return copy
    }

    /// Bypass mode: each input field split like the first feature column reading it
    /// (its `separator` and `kvSeparator` when single bytes); fields no column reads are one value.
    public init(specs: [FeatureColumnSpec], inputFields: [String]) {
        var byInput: [String: FeatureColumnSpec] = [:]
        for s in specs {
            for (k, n) in s.inputNames.enumerated() where byInput[n] == nil {
                // Combo inputs and second (weight) inputs are single values per separator too.
                _ = k
                byInput[n] = s
            }
        }
        fields = inputFields.map { name in
            guard let spec = byInput[name] else { return SampleField(name: name) }
            let sep = spec.separator.utf8.count == 1 ? spec.separator.utf8.first : nil
            let kv = spec.kvSeparator.flatMap { $0.utf8.count == 1 ? $0.utf8.first : nil }
            return SampleField(name: name, separator: sep, kvSeparator: kv)
        }
    }
}

/// Separators of the training-sample rendering of FG outputs (fg.md section 2).
public enum SampleFormat {
    /// Between features of one sample.
    public static let featureSeparator: UInt8 = 0x02
    /// Between the values of one multi-value feature.
    public static let valueSeparator: UInt8 = 0x03
    /// Between an id and its weight in a weighted feature (`id:weight`, split at the last ':').
    public static let weightSeparator: UInt8 = UInt8(ascii: ":")
}

extension FGConfig {
    /// Schema of a sample line whose fields are `leadingFields` (e.g. labels, one value each)
    /// followed by this config's FG outputs in fg.json order.
    public func sampleSchema(leadingFields: [String] = []) -> SampleSchema {
        SampleSchema(fields: leadingFields.map { SampleField(name: $0) } + features.map {
            SampleField(name: $0.name, separator: SampleFormat.valueSeparator,
                        kvSeparator: $0.outputsWeights ? SampleFormat.weightSeparator : nil)
        })
    }

    /// Parse one rendered FG sample (`\u{02}` between features, `\u{03}` inside) back to
    /// per-feature value lists, in fg.json order (weights stay in the text as `id:weight`).
    public func parseSample(_ text: String) throws(FGError) -> [[String]] {
        let parts = text.split(separator: "\u{02}", omittingEmptySubsequences: false)
        guard parts.count == features.count else {
            throw .invalidSample(line: 0, field: "(line)", reason: "has \(parts.count) fields, fg.json has \(features.count) features")
        }
        return parts.map { p in p.split(separator: "\u{03}", omittingEmptySubsequences: true).map(String.init) }
    }
}

extension FeatureBatch {
    /// Render one item as a training-sample string: slots joined by `\u{02}`, values by `\u{03}`,
    /// weighted values as `id:weight`, floats in shortest round-trip form.
    public func renderSample(item: Int) -> String {
        var out: [UInt8] = []
        renderSample(item: item, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Append the sample rendering of one item to `out`.
    public func renderSample(item: Int, into out: inout [UInt8]) {
        for s in 0..<slotBase.count {
            if s > 0 { out.append(SampleFormat.featureSeparator) }
            var first = true
            for e in entryRange(slot: s, item: item) {
                if !first { out.append(SampleFormat.valueSeparator) }
                first = false
                if isBareNumber(e) {
                    FGMath.appendShortestValue(numbers[e], to: &out)
                } else {
                    out.append(contentsOf: bytes[Int(bounds[e])..<Int(bounds[e + 1])])
                }
                if slotWeighted[s] {
                    out.append(SampleFormat.weightSeparator)
                    FGMath.appendShortest(weights[e], to: &out)
                }
            }
        }
    }

    /// Load training-sample lines (one item each), fields split on `fieldSeparator` and named and
    /// split per `schema`. Label fields are loaded too (read them with ``numbers(slot:item:)``).
    public mutating func loadSamples(_ lines: [[UInt8]], fieldSeparator: UInt8, schema: SampleSchema) throws(FGError) {
        begin(names: schema.names, itemCount: lines.count)
        let nf = schema.fields.count
        // field ranges of every line: starts[l * (nf + 1) + f]
        var starts = scratch.inputStarts
        scratch.inputStarts = []
        defer { scratch.inputStarts = starts }
        starts.removeAll(keepingCapacity: true)
        for (l, line) in lines.enumerated() {
            starts.append(0)
            var count = 1
            for (i, c) in line.enumerated() where c == fieldSeparator {
                count += 1
                if count > nf { break }
                starts.append(i + 1)
            }
            guard count == nf else {
                throw .invalidSample(line: l, field: "(line)", reason: "has \(count) fields, expected \(nf)")
            }
            starts.append(line.count + 1)  // sentinel: end + 1
        }
        for (s, field) in schema.fields.enumerated() {
            beginSlot(broadcast: false, weighted: field.kvSeparator != nil)
            for (l, line) in lines.enumerated() {
                let base = l * (nf + 1)
                let a = starts[base + s], b = starts[base + s + 1] - 1
                var failure: FGError?
                line.withUnsafeBytes { p in
                    do throws(FGError) {
                        try appendField(UnsafeRawBufferPointer(rebasing: p[a..<b]), field, line: l)
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
                endItem()
            }
        }
    }

    /// Load sample lines given as strings.
    public mutating func loadSamples(_ lines: [String], fieldSeparator: UInt8, schema: SampleSchema) throws(FGError) {
        try loadSamples(lines.map { Array($0.utf8) }, fieldSeparator: fieldSeparator, schema: schema)
    }

    /// Append the values of one field to the open item.
    mutating func appendField(_ p: UnsafeRawBufferPointer, _ field: SampleField, line: Int) throws(FGError) {
        var start = 0
        var i = 0
        let n = p.count
        while i <= n {
            if i == n || (field.separator != nil && p[i] == field.separator) {
                if i > start {
                    var end = i
                    var weight: Float = 1
                    if let kv = field.kvSeparator {
                        var k = i - 1
                        while k >= start && p[k] != kv { k -= 1 }
                        guard k > start else {
                            throw .invalidSample(line: line, field: field.name, reason: "weighted value without 'id\(Character(Unicode.Scalar(kv)))weight'")
                        }
                        guard let w = FGMath.parseFloat(UnsafeRawBufferPointer(rebasing: p[(k + 1)..<i])), w.isFinite else {
                            throw .invalidSample(line: line, field: field.name, reason: "weight is not a number")
                        }
                        weight = w
                        end = k
                    }
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[start..<end]))
                    closeEntry(weight: weight)
                }
                start = i + 1
            }
            i += 1
        }
    }
}
