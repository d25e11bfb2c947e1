/// Places the slices of a partitioned variable into the full row-major tensor.
enum SliceAssembly {
    static func assemble(name: String, shape: [Int], pieces: [(extents: [(start: Int, length: Int)], tensor: TFTensor)],
                         bundle: String) throws(TensorFlowIOError) -> TFTensor {
        guard let first = pieces.first else { throw .corrupt(file: bundle + ".index", what: "partitioned '\(name)' has no slices") }
        let total = shape.reduce(1, *)
        var covered = 0
        for piece in pieces {
            guard piece.tensor.dtypeName == first.tensor.dtypeName else {
                throw .corrupt(file: bundle + ".index", what: "slices of '\(name)' have different dtypes")
            }
            for (extent, dim) in zip(piece.extents, shape) where extent.start < 0 || extent.start + extent.length > dim {
                throw .corrupt(file: bundle + ".index", what: "slice of '\(name)' [\(extent.start), +\(extent.length)) outside dimension \(dim)")
            }
            covered += piece.tensor.count
        }
        guard covered == total else {
            throw .corrupt(file: bundle + ".index", what: "slices of '\(name)' cover \(covered) of \(total) elements")
        }
        func place<T>(_ fill: T, _ extract: (TFTensor.Values) -> [T]?) throws(TensorFlowIOError) -> [T] {
            var out = [T](repeating: fill, count: total)
            var strides = [Int](repeating: 1, count: shape.count)
            for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
            for piece in pieces {
                guard let values = extract(piece.tensor.values) else {
                    throw .corrupt(file: bundle + ".index", what: "slices of '\(name)' have different dtypes")
                }
                let sliceShape = piece.extents.map(\.length)
                var index = [Int](repeating: 0, count: shape.count)
                for value in values {
                    var offset = 0
                    for axis in 0..<shape.count { offset += (piece.extents[axis].start + index[axis]) * strides[axis] }
                    out[offset] = value
                    var axis = shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < sliceShape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
            return out
        }
        let values: TFTensor.Values
        switch first.tensor.values {
        case .float: values = .float(try place(0) { if case let .float(v) = $0 { return v } else { return nil } })
        case .double: values = .double(try place(0) { if case let .double(v) = $0 { return v } else { return nil } })
        case .int32: values = .int32(try place(0) { if case let .int32(v) = $0 { return v } else { return nil } })
        case .int64: values = .int64(try place(0) { if case let .int64(v) = $0 { return v } else { return nil } })
        case .bool: values = .bool(try place(false) { if case let .bool(v) = $0 { return v } else { return nil } })
        case .string: values = .string(try place([]) { if case let .string(v) = $0 { return v } else { return nil } })
        }
        return TFTensor(shape: shape, values: values)
    }
}
