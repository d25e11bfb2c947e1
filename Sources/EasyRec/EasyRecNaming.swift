import FG
import Inference

/// EasyRec's TensorFlow variable names for odl's DeepFM tables, and the ids EasyRec's online
/// export assigns (`embedding_utils.get_norm_name_to_ids` / `get_dense_name_to_ids`).
///
/// - Tables: the wide group is built first (`input_layer/`), the deep group second
///   (`input_layer_1/`); the embedding column of a feature is named after its categorical
///   column: `<f>_embedding` (hash, vocabulary, identity), `<f>_bucketized_embedding` (raw with
///   boundaries), `<f>_weighted_by_<f>_raw_proj_val_embedding` (raw projection); an
///   `embedding_name` shared by several features is `<name>` (deep) / `<name>_wide` (wide).
///   The variable is `<table>/embedding_weights` (partitioned: `.../part_N`, one checkpoint
///   entry with slices).
/// - Dense variables keep odl's names, which are EasyRec's.
public enum EasyRecNaming {
    /// EasyRec's normalized table name (the checkpoint variable without `/embedding_weights`).
    public static func tableName(spec: ModelSpec, embedding: EmbeddingSpec) -> String {
        let column = spec.columns[embedding.column]
        let scope = embedding.part == .wide ? "input_layer/" : "input_layer_1/"
        let odlName = ModelSpec.tableName(columns: spec.columns, column: embedding.column, part: embedding.part)
        guard odlName.hasSuffix("/\(column.name)_embedding") else { return odlName }
        return scope + columnName(column)
    }

    /// The TensorFlow embedding column's name of a feature (unshared): TF's input layer
    /// concatenates a group's columns sorted by this name.
    public static func columnName(_ column: FeatureColumnSpec) -> String {
        switch column.kind {
        case .boundaries: return "\(column.name)_bucketized_embedding"
        case .raw: return "\(column.name)_weighted_by_\(column.name)_raw_proj_val_embedding"
        default: return "\(column.name)_embedding"
        }
    }

    /// The checkpoint variable holding the table.
    public static func variableName(spec: ModelSpec, embedding: EmbeddingSpec) -> String {
        tableName(spec: spec, embedding: embedding) + "/embedding_weights"
    }

    /// The table name of a checkpoint variable (`.../embedding_weights[/part_N]`), or nil.
    public static func normalizedTableName(variable: String) -> String? {
        guard let range = variable.range(of: "/embedding_weights") else { return nil }
        let rest = variable[range.upperBound...]
        guard rest.isEmpty || (rest.hasPrefix("/part_") && rest.dropFirst(6).allSatisfy(\.isNumber)) else { return nil }
        return String(variable[..<range.lowerBound])
    }

    /// The ids EasyRec's online export assigns, derived from the graph's variables in creation
    /// order: tables in order of first appearance; dense variables with the batch-norm moving
    /// statistics first (they enter `DENSE_UPDATE_VARIABLES` from `UPDATE_OPS` before the
    /// optimizer adds the trainable ones), then the trainable dense variables.
    public static func derivedIds(graphVariables: [String], spec: ModelSpec) -> (dense: [String: Int], tables: [String: Int]) {
        var tables: [String: Int] = [:]
        for name in graphVariables {
            if let table = normalizedTableName(variable: name), tables[table] == nil { tables[table] = tables.count }
        }
        let denseNames = Set(spec.denseVariables.map(\.name))
        let inGraph = graphVariables.filter { denseNames.contains($0) }
        let moving = inGraph.filter { $0.hasSuffix("/moving_mean") || $0.hasSuffix("/moving_variance") }
        let trainable = inGraph.filter { !($0.hasSuffix("/moving_mean") || $0.hasSuffix("/moving_variance")) }
        var dense: [String: Int] = [:]
        for name in moving + trainable { dense[name] = dense.count }
        return (dense, tables)
    }
}
