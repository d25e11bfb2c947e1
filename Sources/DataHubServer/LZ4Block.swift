/// Decoder of the LZ4 block format (no frame), which the DataHub SDKs use for request bodies
/// by default (`Content-Encoding: lz4`, the raw size in `x-datahub-content-raw-size`).
enum LZ4Block {
    struct Malformed: Error, CustomStringConvertible {
        var reason: String
        var description: String { "lz4 block: \(reason)" }
    }

    /// Decompresses `input` into exactly `rawSize` bytes.
    static func decompress(_ input: [UInt8], rawSize: Int) throws(Malformed) -> [UInt8] {
        guard rawSize >= 0, rawSize <= 256 << 20 else { throw Malformed(reason: "raw size \(rawSize) out of range") }
        var out: [UInt8] = []
        out.reserveCapacity(rawSize)
        var i = 0
        func length(_ start: Int) throws(Malformed) -> Int {
            var n = start
            guard start == 15 else { return n }
            while true {
                guard i < input.count else { throw Malformed(reason: "truncated length") }
                let b = Int(input[i]); i += 1
                n += b
                if b != 255 { return n }
            }
        }
        while i < input.count {
            let token = Int(input[i]); i += 1
            let literals = try length(token >> 4)
            guard i + literals <= input.count else { throw Malformed(reason: "literal run past the end") }
            out.append(contentsOf: input[i..<(i + literals)])
            i += literals
            if i == input.count { break }   // the last sequence has literals only
            guard i + 2 <= input.count else { throw Malformed(reason: "truncated match offset") }
            let offset = Int(input[i]) | Int(input[i + 1]) << 8
            i += 2
            guard offset > 0, offset <= out.count else { throw Malformed(reason: "match offset \(offset) outside the output") }
            let match = try length(token & 15) + 4
            guard out.count + match <= rawSize else { throw Malformed(reason: "output larger than the raw size \(rawSize)") }
            let start = out.count - offset
            for k in 0..<match { out.append(out[start + k]) }
        }
        guard out.count == rawSize else { throw Malformed(reason: "decoded \(out.count) bytes, raw size says \(rawSize)") }
        return out
    }
}
