/// Named feature slots x items, each holding a list of values: byte-string ids (with weights)
/// or floats. FG writes its outputs here (processor path), training samples and bypass requests
/// are loaded here (trainer path), and ``ColumnEncoder`` reads it. Reuse one per worker:
/// buffers keep their capacity across requests. Accessors take `slot < names.count` and
/// `item < itemCount` (a precondition, as for array subscripts).
public struct FeatureBatch: Sendable {
    /// Slot names (FG outputs in fg.json order, or sample/input field names).
    public internal(set) var names: [String]
    public internal(set) var itemCount: Int

    // Entries: bytes[bounds[e]..<bounds[e+1]]; a numeric entry may have no bytes (number set).
    @usableFromInline var bytes: [UInt8] = []
    @usableFromInline var bounds: [Int32] = [0]
    @usableFromInline var weights: [Float] = []
    /// Numeric value of an entry when known, NaN otherwise.
    @usableFromInline var numbers: [Double] = []
    // Slots: item i of slot s is entries itemOffsets[slotBase[s] + j] ..< itemOffsets[slotBase[s] + j + 1],
    // j = broadcast ? 0 : i.
    @usableFromInline var slotBase: [Int32] = []
    @usableFromInline var slotBroadcast: [Bool] = []
    @usableFromInline var slotWeighted: [Bool] = []
    @usableFromInline var itemOffsets: [Int32] = []
    /// Reusable evaluation scratch space.
    var scratch = FGScratch()

    public init(names: [String] = []) {
        self.names = names
        self.itemCount = 0
    }

    /// Index of the slot called `name`.
    public func slotIndex(_ name: String) -> Int? { names.firstIndex(of: name) }

    /// True when the slot holds one value list shared by all items.
    public func isBroadcast(slot: Int) -> Bool { slotBroadcast[slot] }

    /// Entry indices of one item of one slot.
    @inlinable
    public func entryRange(slot: Int, item: Int) -> Range<Int> {
        let j = Int(slotBase[slot]) + (slotBroadcast[slot] ? 0 : item)
        return Int(itemOffsets[j])..<Int(itemOffsets[j + 1])
    }

    /// Number of values of one item of one slot.
    public func count(slot: Int, item: Int) -> Int { entryRange(slot: slot, item: item).count }

    /// The values of one item of one slot as strings (allocating convenience for tests and debug).
    public func strings(slot: Int, item: Int) -> [String] {
        entryRange(slot: slot, item: item).map { String(decoding: entryText($0), as: UTF8.self) }
    }

    /// The weights of one item of one slot.
    public func weights(slot: Int, item: Int) -> [Float] {
        Array(weights[entryRange(slot: slot, item: item)])
    }

    /// Numeric values of one item of one slot (nil where a value is not a number).
    public func numbers(slot: Int, item: Int) -> [Double?] {
        entryRange(slot: slot, item: item).map { e in
            if !numbers[e].isNaN { return numbers[e] }
            return bytes.withUnsafeBytes { FGMath.parseDouble(UnsafeRawBufferPointer(rebasing: $0[Int(bounds[e])..<Int(bounds[e + 1])])) }
        }
    }

    /// The first value of one item of one slot as a number (labels of training samples);
    /// nil when the slot is empty there or not numeric. Does not allocate.
    public func firstNumber(slot: Int, item: Int) -> Double? {
        let r = entryRange(slot: slot, item: item)
        guard let e = r.first else { return nil }
        if !numbers[e].isNaN { return numbers[e] }
        return bytes.withUnsafeBytes { FGMath.parseDouble(UnsafeRawBufferPointer(rebasing: $0[Int(bounds[e])..<Int(bounds[e + 1])])) }
    }

    /// True when entry `e` is numeric without bytes (float FG output).
    @inlinable
    func isBareNumber(_ e: Int) -> Bool { bounds[e] == bounds[e + 1] && !numbers[e].isNaN }

    /// The text of an entry (numbers rendered shortest round-trip).
    func entryText(_ e: Int) -> [UInt8] {
        if isBareNumber(e) {
            var out: [UInt8] = []
            FGMath.appendShortestValue(numbers[e], to: &out)
            return out
        }
        return Array(bytes[Int(bounds[e])..<Int(bounds[e + 1])])
    }

    // MARK: building (internal)

    mutating func begin(names newNames: [String], itemCount n: Int) {
        if names != newNames { names = newNames }
        itemCount = n
        bytes.removeAll(keepingCapacity: true)
        bounds.removeAll(keepingCapacity: true)
        bounds.append(0)
        weights.removeAll(keepingCapacity: true)
        numbers.removeAll(keepingCapacity: true)
        slotBase.removeAll(keepingCapacity: true)
        slotBroadcast.removeAll(keepingCapacity: true)
        slotWeighted.removeAll(keepingCapacity: true)
        itemOffsets.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func beginSlot(broadcast: Bool, weighted: Bool) {
        slotBase.append(Int32(truncatingIfNeeded: itemOffsets.count))
        slotBroadcast.append(broadcast)
        slotWeighted.append(weighted)
        itemOffsets.append(Int32(truncatingIfNeeded: weights.count))
    }

    /// Close the entry whose bytes were appended since the previous entry.
    @inline(__always)
    mutating func closeEntry(weight: Float = 1, number: Double = .nan) {
        bounds.append(Int32(truncatingIfNeeded: bytes.count))
        weights.append(weight)
        numbers.append(number)
    }

    /// Add a numeric entry without bytes.
    @inline(__always)
    mutating func appendNumber(_ x: Double) {
        bounds.append(Int32(truncatingIfNeeded: bytes.count))
        weights.append(1)
        numbers.append(x)
    }

    @inline(__always)
    mutating func endItem() { itemOffsets.append(Int32(truncatingIfNeeded: weights.count)) }

    /// Entries written for the current (open) item.
    @inline(__always)
    var openItemCount: Int { weights.count - Int(itemOffsets[itemOffsets.count - 1]) }

    /// Drop the bytes appended after `mark` (an entry that turned out invalid).
    @inline(__always)
    mutating func truncateBytes(to mark: Int) { bytes.removeSubrange(mark..<bytes.count) }
}

/// Reusable buffers for FG evaluation (internal).
struct FGScratch: Sendable {
    var bytes: [UInt8] = []
    var bounds: [Int32] = []
    var inputStarts: [Int] = []
    var odometer: [Int] = []
    var doubles: [Double] = []
    // lookup map: entries as ranges in `mapBytes`, open-addressing index by fingerprint
    var mapBytes: [UInt8] = []
    var mapKeyStart: [Int32] = []
    var mapKeyEnd: [Int32] = []
    var mapValEnd: [Int32] = []
    var mapHash: [UInt64] = []
    var mapTable: [Int32] = []
    // match map: (category, key, value) ranges in `matchBytes`
    var matchBytes: [UInt8] = []
    var matchRanges: [Int32] = []  // 6 per pair: cat start/end, key start/end, val start/end
    var words: [Int32] = []
}
