/// Errors of the trainer outside the model math; each names the file, field or offset at fault.
public enum TrainerError: Error, CustomStringConvertible, Equatable {
    /// A file in model_dir or a checkpoint is missing or malformed.
    case checkpoint(path: String, reason: String)
    /// A config value the trainer needs is missing or bad.
    case config(field: String, reason: String)
    /// An input source (Kafka topic or file) failed.
    case input(source: String, reason: String)
    /// An incremental update could not be delivered (after retries).
    case updateDelivery(key: String, reason: String)
    /// An export could not be written.
    case export(path: String, reason: String)

    public var description: String {
        switch self {
        case .checkpoint(let p, let r): return "checkpoint \(p): \(r)"
        case .config(let f, let r): return "config field \(f): \(r)"
        case .input(let s, let r): return "input \(s): \(r)"
        case .updateDelivery(let k, let r): return "update \(k) not delivered: \(r)"
        case .export(let p, let r): return "export \(p): \(r)"
        }
    }
}
