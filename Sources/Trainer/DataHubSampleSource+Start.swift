import Config

extension DataHubSampleSource {
    /// Resolves where each shard starts (trainer.md's rules with DataHub's `offset_info`: a
    /// checkpoint's saved next-unread sequences first, then cursors or a timestamp, else the
    /// oldest record) and starts reading there; a checkpoint's saved cursors are where those shards resume.
    public func resolveStarts(_ input: EasyRec_DatahubServer, checkpoint: [Int32: Int64]?, cursors: [Int32: String] = [:],
                              fineTune: [Int32: Int64]?) throws -> [PartitionStart] {
        let spec: OffsetSpec
        switch try input.startPosition() {
        case .cursors(let cursors)?:
            var sequences: [Int32: Int64] = [:]
            for (shard, cursor) in cursors {
                guard let p = Int32(shard) else {
                    throw TrainerError.config(field: "datahub_train_input.offset_info", reason: "shard id \"\(shard)\" is not a number")
                }
                // A restart from a checkpoint does not need the configured cursors.
                if let saved = checkpoint?[p] { sequences[p] = saved } else { sequences[p] = try sequence(atCursor: cursor, shard: p) }
            }
            spec = .partitions(sequences)
        case .timestamp(let seconds)?:
            spec = .timestamp(seconds * 1000)
        case nil:
            spec = .none
        }
        let starts = try StartPosition.resolve(topicPartitions: try partitions(), checkpoint: checkpoint, fineTune: fineTune,
                                               spec: spec) { p, ms in try sequence(atTime: ms, shard: p) }
        savedStarts = checkpoint ?? fineTune ?? [:]
        try start(starts, cursors: checkpoint != nil ? cursors : [:])
        return starts
    }
}
