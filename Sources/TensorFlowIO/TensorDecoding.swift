/// Decodes a tensor's raw bundle bytes (little-endian fixed-width values, or TensorFlow's
/// string layout) after checking them against the entry's CRC32C.
enum TensorDecoding {
    static func decode(_ bytes: ArraySlice<UInt8>, dtype: Tensorflow_DataType, count: Int, name: String,
                       file: String, storedCRC: UInt32) throws(TensorFlowIOError) -> TFTensor.Values {
        if dtype == .dtString { return .string(try strings(bytes, count: count, name: name, file: file, storedCRC: storedCRC)) }
        let computed = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        guard computed == storedCRC else {
            throw .checksumMismatch(file: file, what: "tensor '\(name)'", stored: storedCRC, computed: computed)
        }
        func fixed<T>(_ width: Int, _ type: String, _ convert: (UInt64) -> T) throws(TensorFlowIOError) -> [T] {
            guard bytes.count == count * width else {
                throw .corrupt(file: file, what: "tensor '\(name)': \(bytes.count) bytes for \(count) \(type) values")
            }
            var result: [T] = []
            result.reserveCapacity(count)
            var index = bytes.startIndex
            for _ in 0..<count {
                var raw: UInt64 = 0
                for byte in 0..<width { raw |= UInt64(bytes[index + byte]) << (8 * UInt64(byte)) }
                result.append(convert(raw))
                index += width
            }
            return result
        }
        switch dtype {
        case .dtFloat: return .float(try fixed(4, "float") { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
        case .dtDouble: return .double(try fixed(8, "double") { Double(bitPattern: $0) })
        case .dtInt32: return .int32(try fixed(4, "int32") { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) })
        case .dtInt64: return .int64(try fixed(8, "int64") { Int64(bitPattern: $0) })
        case .dtBool: return .bool(try fixed(1, "bool") { $0 != 0 })
        default: throw .unsupported(file: file, what: "tensor '\(name)' has dtype \(dtype)")
        }
    }

    /// `[varint64 len]*count [masked crc32c of the lengths as uint32] [bytes]*count`; the
    /// entry's CRC covers the lengths (as 4-byte little-endian), the length checksum and the bytes.
    private static func strings(_ bytes: ArraySlice<UInt8>, count: Int, name: String, file: String,
                                storedCRC: UInt32) throws(TensorFlowIOError) -> [[UInt8]] {
        var reader = ByteReader(bytes, file: file)
        var lengths: [Int] = []
        var crc: UInt32 = 0
        for _ in 0..<count {
            let length = try reader.varint64("string lengths of tensor '\(name)'")
            guard length <= UInt64(bytes.count) else {
                throw .corrupt(file: file, what: "tensor '\(name)': string of \(length) bytes in a \(bytes.count)-byte tensor")
            }
            var little = UInt32(length).littleEndian
            crc = withUnsafeBytes(of: &little) { CRC32C.checksum($0, continuing: crc) }
            lengths.append(Int(length))
        }
        let checksumBytes = try reader.take(4, "length checksum of tensor '\(name)'")
        let storedLengthCRC = ByteReader.fixed32(checksumBytes, at: checksumBytes.startIndex)
        guard CRC32C.unmask(storedLengthCRC) == crc else {
            throw .checksumMismatch(file: file, what: "string lengths of tensor '\(name)'", stored: CRC32C.unmask(storedLengthCRC), computed: crc)
        }
        crc = checksumBytes.withUnsafeBytes { CRC32C.checksum($0, continuing: crc) }
        var result: [[UInt8]] = []
        for length in lengths {
            let element = try reader.take(length, "string bytes of tensor '\(name)'")
            crc = element.withUnsafeBytes { CRC32C.checksum($0, continuing: crc) }
            result.append(Array(element))
        }
        guard crc == storedCRC else {
            throw .checksumMismatch(file: file, what: "tensor '\(name)'", stored: storedCRC, computed: crc)
        }
        return result
    }
}
