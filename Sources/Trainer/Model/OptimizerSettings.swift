import Foundation

/// Which update rule the trainer applies (TensorFlow semantics; EasyRec's `optimizer_config`).
public enum OptimizerKind: Sendable, Equatable {
    /// `tf.train.AdamOptimizer`: bias correction through beta powers; sparse rows updated lazily.
    case adam(beta1: Float, beta2: Float, epsilon: Float)
    /// `tf.train.AdagradOptimizer`: accumulators start at `initialAccumulator`.
    case adagrad(initialAccumulator: Float)
    /// `tf.train.MomentumOptimizer` (not Nesterov): `accum = m * accum + g; w -= lr * accum`.
    case momentum(momentum: Float)

    /// EasyRec/TF defaults.
    public static let defaultAdam = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    public static let defaultAdagrad = OptimizerKind.adagrad(initialAccumulator: 0.1)
    public static let defaultMomentum = OptimizerKind.momentum(momentum: 0.9)
}

/// Learning rate as a function of the global step (EasyRec's `LearningRate` oneof).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// `initial * decayFactor ^ (step / decaySteps)` (integer division when `staircase`),
    /// never below `minimum`.
    case exponentialDecay(initial: Float, decaySteps: Int, decayFactor: Float, staircase: Bool, minimum: Float)

    /// The rate used by the step that starts at global step `step`.
    public func rate(at step: Int) -> Float {
        switch self {
        case .constant(let r):
            return r
        case .exponentialDecay(let initial, let decaySteps, let decayFactor, let staircase, let minimum):
            guard decaySteps > 0 else { return max(initial, minimum) }
            var p = Double(max(step, 0)) / Double(decaySteps)
            if staircase { p = p.rounded(.down) }
            let r = Float(Double(initial) * pow(Double(decayFactor), p))
            return max(r, minimum)
        }
    }
}

/// Optimizer and learning-rate schedule of a ``TrainableDeepFM``.
public struct OptimizerSettings: Sendable, Equatable {
    public var kind: OptimizerKind
    public var learningRate: LearningRateSchedule

    public init(kind: OptimizerKind, learningRate: LearningRateSchedule) {
        self.kind = kind
        self.learningRate = learningRate
    }
}
