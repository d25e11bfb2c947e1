/// A TensorFlow file (checkpoint index/data, SavedModel) that cannot be read; names the file
/// and what is wrong with it.
public enum TensorFlowIOError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be opened or read.
    case unreadable(file: String, reason: String)
    /// The file ends before a structure it must contain (footer, block, tensor bytes).
    case truncated(file: String, what: String)
    /// The bytes are not what the format says (bad magic, varint, block layout, proto).
    case corrupt(file: String, what: String)
    /// A stored CRC32C does not match the bytes it covers.
    case checksumMismatch(file: String, what: String, stored: UInt32, computed: UInt32)
    /// The format uses a feature odl does not read (compression, big-endian, a dtype).
    case unsupported(file: String, what: String)
    /// The bundle has no tensor of that name.
    case missingTensor(bundle: String, name: String)
    /// The tensor exists but is not of the requested dtype or shape.
    case wrongType(bundle: String, name: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .truncated(file, what): return "\(file): truncated: \(what)"
        case let .corrupt(file, what): return "\(file): corrupt: \(what)"
        case let .checksumMismatch(file, what, stored, computed):
            return "\(file): CRC32C mismatch in \(what): stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))"
        case let .unsupported(file, what): return "\(file): unsupported: \(what)"
        case let .missingTensor(bundle, name): return "\(bundle): no tensor named '\(name)'"
        case let .wrongType(bundle, name, expected, found):
            return "\(bundle): tensor '\(name)' is \(found), expected \(expected)"
        }
    }
}
