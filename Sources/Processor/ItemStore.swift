import FG
import Synchronization

/// The in-memory item feature cache: every item's features as one compact record in a byte
/// arena (``ItemRecordCodec``), found through an id -> slot index. Updates append the new
/// record and then repoint the item's slot, under one lock with the readers: a reader sees an
/// item's old record or its new one, never a mix. Shared by the scorer and the item source.
public final class ItemStore: Sendable {
    /// Feature fields in record order (the key column excluded).
    public let fields: [String]
    private let storage: Mutex<ItemStorage>

    public init(fields: [String]) {
        self.fields = fields
        storage = Mutex(ItemStorage(fieldCount: fields.count))
    }

    /// Items held now.
    public var count: Int { storage.withLock { $0.live } }

    /// Insert or replace items; each row becomes visible whole (one lock for the batch).
    public func upsert(_ rows: [(id: String, values: [FeatureValue?])]) {
        var encoded: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(rows.count)
        for row in rows {
            ItemRecordCodec.append(row.values, fieldCount: fields.count, to: &encoded)
            ends.append(encoded.count)
        }
        storage.withLock { s in
            var start = 0
            for (i, row) in rows.enumerated() {
                s.put(id: row.id, record: encoded[start..<ends[i]])
                start = ends[i]
            }
            s.compactIfWasteful()
        }
    }

    /// Remove items (deleted in the source); unknown ids are ignored.
    public func remove(_ ids: [String]) {
        storage.withLock { s in
            for id in ids { s.remove(id: id) }
        }
    }

    /// Replace the whole content with `replacement` (a full reconcile) in one step.
    public func replaceAll(with replacement: ItemStorage) {
        precondition(replacement.fieldCount == fields.count, "storage of another field layout")
        storage.withLock { $0 = replacement }
    }

    /// A fresh, unshared storage of this layout to fill off-line before ``replaceAll(with:)``.
    public func makeStorage() -> ItemStorage { ItemStorage(fieldCount: fields.count) }

    /// Values of `items` per field (`result[field][item]`, nil where absent), read under one
    /// lock: all fields of an item come from the same version of its record.
    public func values(of items: [String]) -> [[FeatureValue?]] {
        var result = Array(repeating: [FeatureValue?](repeating: nil, count: items.count), count: fields.count)
        storage.withLock { s in
            s.arena.withUnsafeBufferPointer { arena in
                for (i, item) in items.enumerated() {
                    guard let slot = s.slotOfItem[item] else { continue }
                    ItemRecordCodec.decode(arena, at: s.offsets[Int(slot)], fieldCount: s.fieldCount) { f, v in result[f][i] = v }
                }
            }
        }
        return result
    }

    public func contains(_ item: String) -> Bool { storage.withLock { $0.slotOfItem[item] != nil } }

    /// Estimated heap bytes of the cache (arena, slot offsets, index with its keys).
    public func footprintBytes() -> Int { storage.withLock { $0.footprintBytes() } }
}

/// The storage behind an ``ItemStore``: a value type so a full reload can be built aside and
/// swapped in whole.
public struct ItemStorage: Sendable {
    let fieldCount: Int
    var slotOfItem: [String: Int32] = [:]
    /// Arena offset of each slot's record; -1 for a free slot.
    var offsets: [Int] = []
    var freeSlots: [Int32] = []
    var arena: [UInt8] = []
    var live = 0
    /// Arena bytes no slot points to any more (replaced or removed records).
    var garbage = 0

    init(fieldCount: Int) { self.fieldCount = fieldCount }

    public var count: Int { live }

    /// Insert or replace one item with features in field order (encoded straight into the arena).
    public mutating func upsert(id: String, values: [FeatureValue?]) {
        let offset = arena.count
        ItemRecordCodec.append(values, fieldCount: fieldCount, to: &arena)
        if let slot = slotOfItem[id], offsets[Int(slot)] >= 0, sameRecord(at: offsets[Int(slot)], as: offset) {
            arena.removeLast(arena.count - offset)
            return
        }
        link(id: id, offset: offset)
    }

    /// Insert or replace one item with an encoded record; an unchanged record is not copied.
    mutating func put(id: String, record: ArraySlice<UInt8>) {
        if let slot = slotOfItem[id], offsets[Int(slot)] >= 0 {
            let old = offsets[Int(slot)]
            let length = recordLength(at: old)
            if length == record.count && arena[old..<(old + length)].elementsEqual(record) { return }
        }
        let offset = arena.count
        arena.append(contentsOf: record)
        link(id: id, offset: offset)
    }

    private func sameRecord(at old: Int, as new: Int) -> Bool {
        let length = recordLength(at: old)
        return length == arena.count - new && arena[old..<(old + length)].elementsEqual(arena[new...])
    }

    /// Point `id` at the record at `offset` (the previous record becomes garbage).
    private mutating func link(id: String, offset: Int) {
        if let slot = slotOfItem[id] {
            garbage += recordLength(at: offsets[Int(slot)])
            offsets[Int(slot)] = offset
            return
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            offsets[Int(slot)] = offset
        } else {
            slot = Int32(offsets.count)
            offsets.append(offset)
        }
        slotOfItem[id] = slot
        live += 1
    }

    mutating func remove(id: String) {
        guard let slot = slotOfItem.removeValue(forKey: id) else { return }
        garbage += recordLength(at: offsets[Int(slot)])
        offsets[Int(slot)] = -1
        freeSlots.append(slot)
        live -= 1
    }

    func recordLength(at offset: Int) -> Int {
        arena.withUnsafeBufferPointer { ItemRecordCodec.length($0, at: offset, fieldCount: fieldCount) }
    }

    /// Drop the growth slack of the arena and slot arrays (after a full load).
    public mutating func shrinkToFit() {
        if arena.capacity > arena.count + arena.count / 16 { arena = Array(arena) }
        if offsets.capacity > offsets.count + offsets.count / 16 { offsets = Array(offsets) }
    }

    /// Rewrite the arena without dead records once they are over half of it.
    mutating func compactIfWasteful() {
        guard garbage > 1 << 16, garbage * 2 > arena.count else { return }
        var packed: [UInt8] = []
        packed.reserveCapacity(arena.count - garbage)
        arena.withUnsafeBufferPointer { old in
            for slot in offsets.indices where offsets[slot] >= 0 {
                let start = offsets[slot]
                let length = ItemRecordCodec.length(old, at: start, fieldCount: fieldCount)
                offsets[slot] = packed.count
                packed.append(contentsOf: UnsafeBufferPointer(rebasing: old[start..<(start + length)]))
            }
        }
        arena = packed
        garbage = 0
    }

    /// Estimated heap bytes: arena and slot arrays at capacity, the index's buckets (key,
    /// slot, metadata bit) at Swift's 3/4 maximum load, and out-of-line key strings (> 15 bytes).
    func footprintBytes() -> Int {
        var buckets = 1
        while buckets * 3 < slotOfItem.capacity * 4 { buckets <<= 1 }
        var keyHeap = 0
        for key in slotOfItem.keys where key.utf8.count > 15 { keyHeap += 32 + (key.utf8.count + 15) / 16 * 16 }
        return arena.capacity + offsets.capacity * MemoryLayout<Int>.stride + freeSlots.capacity * 4
            + buckets * (MemoryLayout<String>.stride + MemoryLayout<Int32>.stride) + buckets / 8 + keyHeap
    }
}
