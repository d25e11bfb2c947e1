import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal NumPy `.npy` (format 1.0, little-endian, C order) reader/writer for checkpoint
/// tensors: `<f4` floats and `<i8` keys.
enum NPYTensor {
    enum Payload: Equatable {
        case float32([Float])
        case int64([Int64])
    }

    /// The `.npy` header (magic, version 1.0, padded dict) for `shape` and `payload`'s dtype;
    /// data starts right after it, at a multiple of 64.
    static func header(shape: [Int], payload: Payload) -> [UInt8] {
        let descr: String
        switch payload {
        case .float32: descr = "<f4"
        case .int64: descr = "<i8"
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        let padded = (unpadded + 63) / 64 * 64
        header += String(repeating: " ", count: padded - unpadded) + "\n"
        var out: [UInt8] = [0x93]
        out += Array("NUMPY".utf8)
        out += [1, 0]
        let hlen = UInt16(header.utf8.count)
        out += [UInt8(hlen & 0xff), UInt8(hlen >> 8)]
        out += Array(header.utf8)
        return out
    }

    /// Serialized `.npy` bytes.
    static func encode(shape: [Int], payload: Payload) -> [UInt8] {
        var out = header(shape: shape, payload: payload)
        switch payload {
        case .float32(let v): v.withUnsafeBytes { out += $0 }
        case .int64(let v): v.withUnsafeBytes { out += $0 }
        }
        return out
    }

    /// Writes a `.npy` file straight from the payload's memory (no intermediate copy).
    static func write(shape: [Int], payload: Payload, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw TrainerError.checkpoint(path: path, reason: "cannot create file (errno \(errno))") }
        defer { close(fd) }
        func put(_ buffer: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < buffer.count {
                guard let base = buffer.baseAddress else { return }
                let n = Glibc.write(fd, base + done, buffer.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw TrainerError.checkpoint(path: path, reason: "write failed (errno \(errno))") }
                done += n
            }
        }
        try header(shape: shape, payload: payload).withUnsafeBytes { try put($0) }
        switch payload {
        case .float32(let v): try v.withUnsafeBytes { try put($0) }
        case .int64(let v): try v.withUnsafeBytes { try put($0) }
        }
    }

    /// Parses `.npy` bytes written by ``encode(shape:payload:)`` (or NumPy with the same dtypes).
    static func decode(_ bytes: [UInt8], path: String) throws -> (shape: [Int], payload: Payload) {
        func bad(_ r: String) -> TrainerError { .checkpoint(path: path, reason: r) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw bad("not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw bad("truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard bytes.count >= headerStart + headerLength else { throw bad("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard !header.contains("'fortran_order': True") else { throw bad("fortran order not supported") }
        let isFloat = header.contains("'<f4'")
        let isInt = header.contains("'<i8'")
        guard isFloat || isInt else { throw bad("dtype must be <f4 or <i8: \(header)") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw bad("no shape in header")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let n = Int(d), n >= 0 else { throw bad("bad shape dimension \(d)") }
            shape.append(n)
        }
        let count = shape.reduce(1, *)
        let dataStart = headerStart + headerLength
        let width = isFloat ? 4 : 8
        guard bytes.count - dataStart == count * width else {
            throw bad("data length \(bytes.count - dataStart) does not match shape \(shape)")
        }
        if isFloat {
            var v = [Float](repeating: 0, count: count)
            v.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[dataStart...]))
            } }
            return (shape, .float32(v))
        } else {
            var v = [Int64](repeating: 0, count: count)
            v.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[dataStart...]))
            } }
            return (shape, .int64(v))
        }
    }
}
