import Foundation

/// `train_input_path` for offline training: CSV files (one sample per line), or RTP files whose
/// lines are converted to CSV layout. One pass over the files in order.
public final class FileSampleSource: SampleSource {
    /// How lines of the files are laid out.
    public enum Format: Sendable, Equatable {
        /// Fields in `input_fields` order, joined by the data_config separator.
        case csv
        /// RTP: columns joined by `columnSeparator`; `selectedColumns` lists the label columns then
        /// the feature column (`selected_cols`, default: all but the last are labels, the last is the
        /// features); the features column holds the non-label input fields, in order, joined by the
        /// data_config separator. Lines are rewritten to CSV layout for the parser.
        case rtp(columnSeparator: String, selectedColumns: [Int]?, layout: SampleLayout)
    }

    public let paths: [String]
    public let format: Format
    private var fileIndex = 0
    private var lines: [ArraySlice<UInt8>] = []
    private var lineIndex = 0
    private var data: [UInt8] = []

    /// Expands a comma-separated list of paths or globs; throws when nothing matches.
    public static func expand(_ spec: String) throws -> [String] {
        var out: [String] = []
        for part in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if part.contains("*") || part.contains("?") || part.contains("[") {
                var g = glob_t()
                defer { globfree(&g) }
                if glob(part, 0, nil, &g) == 0 {
                    for i in 0..<Int(g.gl_pathc) {
                        if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
                    }
                }
                if out.isEmpty {
                    throw TrainerError.input(source: part, reason: "train_input_path pattern matches no file")
                }
            } else {
                guard FileManager.default.fileExists(atPath: part) else {
                    throw TrainerError.input(source: part, reason: "train_input_path file does not exist")
                }
                out.append(part)
            }
        }
        guard !out.isEmpty else { throw TrainerError.input(source: spec, reason: "train_input_path is empty") }
        return out
    }

    /// Start over at the first file after the last (`num_steps` set: train until it, not one pass).
    public let repeating: Bool
    /// Completed passes over all files.
    public private(set) var passes = 0

    public init(paths: [String], format: Format = .csv, repeating: Bool = false) {
        self.paths = paths
        self.format = format
        self.repeating = repeating
    }

    private var recordsInPass = 0
    private var emptyPass = false

    public var isExhausted: Bool {
        fileIndex >= paths.count && lineIndex >= lines.count && (!repeating || emptyPass)
    }
    public var hasOffsets: Bool { false }

    public func poll(maxRecords: Int, timeout: Double) throws -> [SampleRecord] {
        var out: [SampleRecord] = []
        while out.count < maxRecords {
            if lineIndex >= lines.count {
                if fileIndex >= paths.count {
                    // Repeat only passes that yielded samples (all-empty files would spin forever).
                    guard repeating, recordsInPass > 0 else {
                        emptyPass = true
                        break
                    }
                    fileIndex = 0
                    passes += 1
                    recordsInPass = 0
                }
                try load(fileIndex)
                fileIndex += 1
                continue
            }
            let line = lines[lineIndex]
            lineIndex += 1
            if line.isEmpty || line.allSatisfy({ $0 == 13 }) { continue }
            out.append(SampleRecord(partition: Int32(fileIndex - 1), offset: Int64(lineIndex), value: convert(line)))
            recordsInPass += 1
        }
        return out
    }

    private func load(_ index: Int) throws {
        guard let d = FileManager.default.contents(atPath: paths[index]) else {
            throw TrainerError.input(source: paths[index], reason: "cannot read file")
        }
        data = [UInt8](d)
        lines = data.split(separator: 10, omittingEmptySubsequences: false)
        lineIndex = 0
    }

    private func convert(_ line: ArraySlice<UInt8>) -> [UInt8] {
        guard case .rtp(let columnSeparator, let selected, let layout) = format else { return Array(line) }
        let text = String(decoding: line, as: UTF8.self)
        let columns = text.components(separatedBy: columnSeparator)
        let picks = selected ?? Array(columns.indices)
        guard let featureColumn = picks.last, featureColumn < columns.count, picks.allSatisfy({ $0 < columns.count }) else {
            return Array(line)   // the parser rejects it with a field-count error
        }
        let labelColumns = picks.dropLast()
        let features = columns[featureColumn].components(separatedBy: layout.separator)
        var fields: [String] = []
        var nextFeature = 0
        for (i, _) in layout.fields.enumerated() {
            if let k = layout.labelIndices.firstIndex(of: i), k < labelColumns.count {
                fields.append(columns[labelColumns[labelColumns.startIndex + k]])
            } else if nextFeature < features.count {
                fields.append(features[nextFeature])
                nextFeature += 1
            }
        }
        // Surplus features stay visible to the field-count check.
        fields += features.dropFirst(nextFeature)
        return Array(fields.joined(separator: layout.separator).utf8)
    }

    public func lag(positions: [Int32: Int64]) -> Int64? { nil }
    public func commit(positions: [Int32: Int64]) {}

    public func describe(_ record: SampleRecord) -> String {
        let path = Int(record.partition) < paths.count && record.partition >= 0 ? paths[Int(record.partition)] : "?"
        return "file \(path) line \(record.offset)"
    }
}
