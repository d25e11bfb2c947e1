import FG
import Inference

/// What the training loop needs from a model (``TrainableDeepFM`` conforms; tests may use
/// small models). Used from one thread.
public protocol TrainingModel: AnyObject {
    var globalStep: Int { get set }
    /// One optimizer step on a batch; returns the batch loss (NaN: the batch was rejected) and probabilities.
    func trainStep(batch: EncodedBatch, labels: [Float]) -> (loss: Float, probs: [Float])
    /// All current parameter values.
    func parameters() -> ModelParameters
    /// Current values of dense variable `id`.
    func denseValues(id: Int) -> [Float]
    /// Rows (per embedding id) touched since the last call; clears the set.
    func drainTouchedRows() -> [Int: [Int64]]
    /// Current rows of `keys` in embedding `embeddingId`, `keys.count * dim` floats.
    func rowValues(embeddingId: Int, keys: [Int64]) -> [Float]
    /// Optimizer slots by name (checkpointed).
    func optimizerState() -> [String: (shape: [Int], values: [Float])]
    func restoreOptimizerState(_ state: [String: (shape: [Int], values: [Float])]) throws
}
