/// Renumbering a spec's dense variables and tables with ids an export already fixed (an
/// EasyRec export's `DENSE_UPDATE_VARIABLES` / `embed_name_to_ids.txt`, which follow
/// EasyRec's variable creation order rather than odl's group order).
extension ModelSpec {
    /// The same model with ids from `dense` and `tables` (name -> id). The names must be
    /// exactly the spec's and the ids a permutation of 0..<n, else it throws naming the problem.
    public func renumbered(dense: [String: Int], tables: [String: Int]) throws(ModelSpecError) -> ModelSpec {
        func permute<T>(_ items: [T], _ ids: [String: Int], _ what: String, name: (T) -> String,
                        setId: (inout T, Int) -> Void) throws(ModelSpecError) -> [T] {
            guard ids.count == items.count else {
                throw .invalid("\(what) ids: \(ids.count) names given, the model has \(items.count)")
            }
            var out = [T?](repeating: nil, count: items.count)
            for var item in items {
                guard let id = ids[name(item)] else { throw .invalid("\(what) ids: no id for \(name(item))") }
                guard id >= 0, id < items.count, out[id] == nil else {
                    throw .invalid("\(what) ids: id \(id) of \(name(item)) is out of range or used twice")
                }
                setId(&item, id)
                out[id] = item
            }
            return out.compactMap { $0 }
        }
        var copy = self
        copy.denseVariables = try permute(denseVariables, dense, "dense variable", name: \.name) { $0.id = $1 }
        copy.embeddings = try permute(embeddings, tables, "embedding", name: \.name) { $0.id = $1 }
        return copy
    }
}
