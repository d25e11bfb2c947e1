import FG
import Logging

/// The item side of a processor: the cache the scorer reads, and what fills it.
struct ItemFeatures: Sendable {
    let store: ItemStore
    let state: ItemSourceState
    /// The database loader; nil for a file (loaded once).
    let source: PostgresItemSource?

    /// From `--item-source` (database) or `--item-source-file` / `--item-table` (file); nil for neither.
    static func make(options: ServeOptions, mode: FeatureMode, metrics: ProcessorMetrics, logger: Logger) throws(ServeError) -> ItemFeatures? {
        if let url = options.itemSource {
            guard options.itemTable == nil else { throw ServeError("give --item-source or --item-source-file, not both") }
            var settings = try ItemSourceSettings.parse(url, passwordFile: options.itemPasswordFile)
            guard options.itemRefreshSeconds > 0 else { throw ServeError("--item-refresh must be positive") }
            settings.refreshSeconds = options.itemRefreshSeconds
            settings.reconcileSeconds = options.itemReconcileSeconds
            if settings.timeKey == nil, settings.reconcileSeconds == nil {
                logger.warning("item source \(settings.redacted) has no time_key: items load once (give time_key=COLUMN for live refresh or --item-reconcile for periodic reloads)")
            }
            let fields = mode.itemFields(key: settings.key)
            let store = ItemStore(fields: fields)
            let state = ItemSourceState(source: settings.redacted, kind: "postgres", metrics: metrics)
            let source = PostgresItemSource(settings: settings, store: store, numericFields: mode.numericItemFields,
                                            state: state, logger: logger)
            return ItemFeatures(store: store, state: state, source: source)
        }
        guard let path = options.itemTable else { return nil }
        let table: ItemFeatureTable
        do {
            table = try ItemFeatureTable.load(path: path, keyField: options.itemKey)
        } catch {
            throw ServeError(error.description)
        }
        let store = table.makeStore()
        let state = ItemSourceState(source: path, kind: "file", metrics: metrics)
        state.refreshed(rows: store.count, newestMicros: nil, seconds: 0, fullLoad: true)
        logger.info("item table loaded", metadata: ["path": "\(path)", "items": "\(table.count)"])
        return ItemFeatures(store: store, state: state, source: nil)
    }
}

extension FeatureMode {
    /// Item fields the model reads: fg.json `item:` inputs (or every input field without
    /// fg.json), the key excluded, in first-use order.
    func itemFields(key: String) -> [String] {
        var seen: Set<String> = [key]
        var fields: [String] = []
        switch self {
        case .fg(let plan):
            for feature in plan.config.features {
                for input in feature.inputs + (feature.matchCategory.map { [$0] } ?? []) where input.side == .item {
                    if seen.insert(input.field).inserted { fields.append(input.field) }
                }
            }
        case .bypass(let schema):
            for name in schema.names where seen.insert(name).inserted { fields.append(name) }
        }
        return fields
    }

    /// Item fields that feed a raw_feature: a text value there must be a number.
    var numericItemFields: Set<String> {
        guard case .fg(let plan) = self else { return [] }
        var numeric: Set<String> = []
        for feature in plan.config.features where feature.type == .raw {
            for input in feature.inputs where input.side == .item { numeric.insert(input.field) }
        }
        return numeric
    }
}
