import FG

/// Turns the sample lines of one batch (already validated by ``SampleParser``) into model
/// input columns.
public protocol BatchEncoding {
    /// Encodes `lines` (raw sample lines, all fields of `data_config.input_fields`) into `out`
    /// (reset first) with `out.batchSize == lines.count`.
    func encode(lines: [[UInt8]], into out: inout EncodedBatch) throws
}
