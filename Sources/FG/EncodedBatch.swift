/// The model input for a batch of B items: per feature column, a CSR list of
/// (row id, weight) pairs per item. Buffers are reused across requests (`reset`).
///
/// For fixed tables an id is the row index (`0..<rows`); for key-value tables it is the
/// hashed key. Raw features without boundaries use ids `0..<dimension` weighted by the value.
public struct EncodedBatch: Sendable {
    /// One feature column over the batch.
    public struct Column: Sendable {
        /// `offsets[i]..<offsets[i+1]` are item i's entries; `offsets.count == batchSize + 1`.
        public var offsets: [Int32]
        public var ids: [Int64]
        public var weights: [Float]

        public init() {
            offsets = [0]
            ids = []
            weights = []
        }

        /// Append one (id, weight) entry to the item being built.
        @inlinable public mutating func append(id: Int64, weight: Float = 1) {
            ids.append(id)
            weights.append(weight)
        }

        /// Close the current item (call once per item, even when it has no entries).
        @inlinable public mutating func endItem() {
            offsets.append(Int32(truncatingIfNeeded: ids.count))
        }

        @inlinable public mutating func reset() {
            offsets.removeAll(keepingCapacity: true)
            offsets.append(0)
            ids.removeAll(keepingCapacity: true)
            weights.removeAll(keepingCapacity: true)
        }

        /// Number of items closed so far.
        @inlinable public var itemCount: Int { offsets.count - 1 }
    }

    public var batchSize: Int
    /// One column per model feature, in the order of the spec list used to encode.
    public var columns: [Column]

    public init(columnCount: Int) {
        batchSize = 0
        columns = Array(repeating: Column(), count: columnCount)
    }

    public mutating func reset() {
        batchSize = 0
        for i in columns.indices { columns[i].reset() }
    }
}
