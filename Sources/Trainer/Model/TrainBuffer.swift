/// A growable, manually managed float buffer for the hot training loops (no copy-on-write,
/// no bounds checks on the pointer paths). Owned by exactly one ``TrainableDeepFM``.
final class TrainBuffer {
    private(set) var base: UnsafeMutablePointer<Float>
    private(set) var count: Int
    private(set) var capacity: Int

    init(count: Int, repeating value: Float = 0) {
        let cap = max(count, 1)
        base = .allocate(capacity: cap)
        base.initialize(repeating: value, count: cap)
        self.count = count
        capacity = cap
    }

    init(_ values: [Float]) {
        let cap = max(values.count, 1)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: cap)
        b.initialize(repeating: 0, count: cap)
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { b.update(from: s, count: values.count) }
        }
        base = b
        count = values.count
        capacity = cap
    }

    deinit { base.deallocate() }

    /// Grow to `newCount` elements, filling new ones with `value`; keeps existing contents.
    func resize(to newCount: Int, repeating value: Float = 0) {
        if newCount > capacity {
            var cap = capacity
            while cap < newCount { cap *= 2 }
            let nb = UnsafeMutablePointer<Float>.allocate(capacity: cap)
            nb.initialize(repeating: 0, count: cap)
            nb.update(from: base, count: count)
            base.deallocate()
            base = nb
            capacity = cap
        }
        if newCount > count { (base + count).update(repeating: value, count: newCount - count) }
        count = newCount
    }

    /// Ensure room for at least `n` elements without keeping contents (scratch use).
    func reserveScratch(_ n: Int) {
        if n > capacity {
            base.deallocate()
            var cap = capacity
            while cap < n { cap *= 2 }
            base = .allocate(capacity: cap)
            base.initialize(repeating: 0, count: cap)
            capacity = cap
        }
        count = max(count, n)
    }

    func fill(_ value: Float, from start: Int = 0, count n: Int) {
        (base + start).update(repeating: value, count: n)
    }

    func array(from start: Int = 0, count n: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: base + start, count: n))
    }

    func copy(from values: [Float], to start: Int) {
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { (base + start).update(from: s, count: values.count) }
        }
    }
}
