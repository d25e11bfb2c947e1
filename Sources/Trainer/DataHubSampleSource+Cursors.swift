import DataHub

extension DataHubSampleSource {
    /// Entries kept per shard of `batchEndCursors` (enough for the batches between two checkpoints).
    static let rememberedCursors = 256

    /// Notes the cursor of sequence `next` (a batch's NextCursor) for checkpoints.
    func remember(cursor: String, shard: String, next: Int64) {
        guard let p = Int32(shard) else { return }
        batchEndCursors[p, default: [:]][next] = cursor
        if let kept = batchEndCursors[p], kept.count > Self.rememberedCursors {
            for old in kept.keys.sorted().prefix(kept.count - Self.rememberedCursors) { batchEndCursors[p]?[old] = nil }
        }
    }

    /// The cursor of each shard's next unread record: a remembered NextCursor, else a SEQUENCE cursor.
    /// A shard whose cursor cannot be had now (endpoint down) is saved with its sequence only.
    public func cursors(positions: [Int32: Int64]) -> [Int32: String] {
        var out: [Int32: String] = [:]
        for (p, next) in positions {
            if let c = batchEndCursors[p]?[next] { out[p] = c; continue }
            do {
                out[p] = try client.getCursor(project: project, topic: topic, shard: String(p), .sequence(next)).cursor
            } catch {
                logger.warning("\(sourceName) shard \(p): no cursor for sequence \(next) in this checkpoint (its sequence is saved): \(error)")
            }
        }
        return out
    }
}
