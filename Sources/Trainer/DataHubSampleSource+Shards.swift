import DataHub
import Foundation

extension DataHubSampleSource {
    /// Whether every parent of `reader` that this run reads has been read to its end.
    func parentsSealed(_ reader: Reader) -> Bool {
        reader.parents.allSatisfy { p in readers.first { $0.shard == p }?.sealed ?? true }
    }

    /// Lists the shards again (at most every `shardListInterval` s) and adds a reader for each new one
    /// (a split's or merge's children), starting at its saved position or its first record.
    func followShardChanges() throws {
        let now = Date().timeIntervalSince1970
        guard now - lastShardList >= Self.shardListInterval else { return }
        lastShardList = now
        let shards: [ShardInfo]
        do { shards = try client.listShards(project: project, topic: topic) } catch where error.isCredentialError {
            throw Self.fatal(error, source: sourceName, accessId: client.accessId)
        } catch {
            logger.warning("\(sourceName): listing shards to follow splits and merges failed: \(error)")
            return
        }
        for s in shards where !readers.contains(where: { $0.shard == s.id }) {
            guard let p = Int32(s.id) else {
                throw TrainerError.input(source: sourceName, reason: "shard id \"\(s.id)\" is not a number")
            }
            do {
                var reader = try open(shard: s.id, next: savedStarts[p] ?? 0)
                reader.parents = s.parentIds
                readers.append(reader)
                logger.info("\(sourceName): following new shard \(s.id) (parents \(s.parentIds))")
            } catch where error.isCredentialError {
                throw Self.fatal(error, source: sourceName, accessId: client.accessId)
            } catch {
                logger.warning("\(sourceName): cannot open new shard \(s.id) yet: \(error)")
                return
            }
        }
    }
}
