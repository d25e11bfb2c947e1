/// A tensor read from a checkpoint: dtype, shape and row-major values.
public struct TFTensor: Sendable, Equatable {
    /// The values, by dtype.
    public enum Values: Sendable, Equatable {
        case float([Float])
        case double([Double])
        case int32([Int32])
        case int64([Int64])
        case bool([Bool])
        case string([[UInt8]])
    }

    public var shape: [Int]
    public var values: Values

    public init(shape: [Int], values: Values) {
        self.shape = shape
        self.values = values
    }

    /// Number of elements (product of the shape).
    public var count: Int { shape.reduce(1, *) }

    /// The dtype's TensorFlow name (`float`, `int64`, ...).
    public var dtypeName: String {
        switch values {
        case .float: return "float"
        case .double: return "double"
        case .int32: return "int32"
        case .int64: return "int64"
        case .bool: return "bool"
        case .string: return "string"
        }
    }

    /// The float32 values; nil for another dtype.
    public var floats: [Float]? {
        if case let .float(values) = values { return values }
        return nil
    }
}
