/// How embedding rows are stored in memory: f32 (4 bytes a value, the export's own format) or
/// bf16 (2 bytes: the top half of the f32 bit pattern, rounded to nearest even). Dense
/// parameters, update messages and everything the forward pass computes stay f32.
public enum EmbeddingDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32
    case bf16

    /// Bytes of one stored value.
    public var bytesPerValue: Int { self == .f32 ? 4 : 2 }

    public var description: String { rawValue }
}
