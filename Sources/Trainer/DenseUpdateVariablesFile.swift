import Foundation
import Inference

/// `model_dir/DENSE_UPDATE_VARIABLES`: `{"<dense variable name>": <id>, ...}` (formats.md sections 2 and 3).
public enum DenseUpdateVariablesFile {
    public static func text(spec: ModelSpec) -> String {
        "{" + spec.denseVariables.map { "\"\($0.name)\": \($0.id)" }.joined(separator: ", ") + "}"
    }

    public static func write(spec: ModelSpec, to path: String) throws {
        try CheckpointStore.atomicWrite(text(spec: spec), to: path)
    }
}
