import ArrayIO

/// The base rows of a key-value table too big for a hash index in memory: keys sorted
/// ascending in a read-only memory map, values in another, and every `blockKeys`-th key
/// (a "fence") in memory. A lookup searches the fences (in memory), then one block of keys
/// (one or two pages of the map), then reads the row: two page reads when cold.
///
/// `@unchecked Sendable`: immutable after init (the maps are read-only; `fences` is a `let`).
package final class SortedKeyBase: @unchecked Sendable {
    static let blockKeys = 512
    /// Keys scanned between releases of their pages during the sortedness check (64 MiB).
    static let scanReleaseKeys = 8 << 20
    let keysMap: ReadOnlyMap
    let valuesMap: ReadOnlyMap
    let keys: UnsafePointer<Int64>
    let count: Int
    let dim: Int
    /// First key of each block.
    let fences: [Int64]

    /// Checks that `keysMap` holds strictly ascending keys (one pass over them) and builds the
    /// fences; nil when they are not sorted (the caller then indexes the table in memory).
    package init?(keys keysMap: ReadOnlyMap, values valuesMap: ReadOnlyMap, dim: Int, releaseAfterUse: Bool = false) {
        let n = keysMap.header.elementCount
        guard valuesMap.header.elementCount == n * dim else { return nil }
        let k = keysMap.data.assumingMemoryBound(to: Int64.self)
        var f: [Int64] = []
        f.reserveCapacity(n / SortedKeyBase.blockKeys + 1)
        var i = 0
        var previous = Int64.min
        while i < n {
            let end = min(i + SortedKeyBase.blockKeys, n)
            if k[i] <= previous && i > 0 { return nil }
            f.append(k[i])
            var p = k[i]
            var j = i + 1
            while j < end {
                let v = k[j]
                if v <= p { return nil }
                p = v
                j += 1
            }
            previous = p
            i = end
            // Do not keep the scanned keys resident: a table bigger than RAM has a key file bigger
            // than a memory budget too. (The pages stay in the page cache while there is room.)
            if i % SortedKeyBase.scanReleaseKeys == 0 { keysMap.release(offset: (i - SortedKeyBase.scanReleaseKeys) * 8, length: SortedKeyBase.scanReleaseKeys * 8) }
        }
        keysMap.release()
        self.keysMap = keysMap
        self.valuesMap = valuesMap
        keys = k
        count = n
        self.dim = dim
        fences = f
        self.releaseAfterUse = releaseAfterUse
        keysMap.adviseRandom()
        valuesMap.adviseRandom()
    }

    /// Block holding `key` if present: index of the last fence <= key, or -1.
    @inline(__always)
    func block(of key: Int64) -> Int {
        fences.withUnsafeBufferPointer { fp -> Int in
            var lo = 0, hi = fp.count   // find the first fence > key
            while lo < hi {
                let mid = (lo + hi) >> 1
                if fp[mid] <= key { lo = mid + 1 } else { hi = mid }
            }
            return lo - 1
        }
    }

    /// Row of `key`, or -1.
    @inline(__always)
    func find(_ key: Int64) -> Int {
        let b = block(of: key)
        if b < 0 { return -1 }
        var lo = b * SortedKeyBase.blockKeys
        var hi = min(lo + SortedKeyBase.blockKeys, count)
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = keys[mid]
            if v == key { return mid }
            if v < key { lo = mid + 1 } else { hi = mid }
        }
        return -1
    }

    /// Values of base row `row` (read-only memory).
    @inline(__always)
    func values(_ row: Int) -> UnsafePointer<Float> {
        valuesMap.data.assumingMemoryBound(to: Float.self) + row * dim
    }

    /// Window of mapping a page fault maps at once (the kernel's default `fault_around_bytes`:
    /// a fault maps the cached pages around it, up to 16).
    static let faultWindow = 64 << 10

    /// Whether each batch drops the pages it touched once it has gathered them (set with a
    /// memory budget: otherwise every lookup leaves up to two 64 KiB windows resident).
    let releaseAfterUse: Bool

    /// Starts reading, in parallel, the key blocks of `ids` (phase 1) and then their rows
    /// (phase 2), so that a cold batch waits about two disk reads instead of two per id. With
    /// ``releaseAfterUse``, appends the fault windows the gather will touch to `windows`.
    func prefetch(_ ids: UnsafeBufferPointer<Int64>, windows: inout [MappedWindow]) {
        let blockBytes = 8 * SortedKeyBase.blockKeys
        for k in ids {
            let b = block(of: k)
            if b >= 0 { keysMap.prefetch(offset: b * blockBytes, length: min(blockBytes, 8 * (count - b * SortedKeyBase.blockKeys))) }
        }
        let w = SortedKeyBase.faultWindow
        for k in ids {
            let r = find(k)
            if r >= 0 {
                valuesMap.prefetch(offset: r * dim * 4, length: dim * 4)
                if releaseAfterUse {
                    let b = r / SortedKeyBase.blockKeys * SortedKeyBase.blockKeys
                    windows.append(keysMap.window(around: 8 * b, size: w))
                    windows.append(keysMap.window(around: 8 * min(b + SortedKeyBase.blockKeys, count) - 1, size: w))
                    windows.append(valuesMap.window(around: r * dim * 4, size: w))
                    windows.append(valuesMap.window(around: (r + 1) * dim * 4 - 1, size: w))
                }
            }
        }
    }

    /// Drops the mapped pages from the process (see ``ReadOnlyMap/release()``); returns bytes.
    func release() -> Int { keysMap.release() + valuesMap.release() }
}
