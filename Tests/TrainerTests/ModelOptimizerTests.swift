import Foundation
import Testing
import FG
import Inference
@testable import Trainer

@Suite("Model optimizers")
struct ModelOptimizerTests {
    // MARK: hand-computed single values

    @Test("adam first and second step by hand")
    func adamByHand() {
        var w: Float = 1, m: Float = 0, v: Float = 0
        let g: Float = 0.5
        // step 1: lr_t = 0.1 * sqrt(1 - 0.999) / (1 - 0.9); m = 0.05, v = 0.00025 -> w moves by lr.
        UpdateRule.adam(lr: 0.1 * (1 - Float(0.999)).squareRoot() / (1 - 0.9), beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
            .apply(&w, [g], &m, &v, count: 1)
        #expect(abs(m - 0.05) < 1e-7)
        #expect(abs(v - 0.00025) < 1e-8)              // 1 - 0.999 is inexact in Float
        #expect(abs(w - 0.9) < 1e-5)
        // step 2, g = -0.5: m = 0.9*0.05 - 0.05 = -0.005, v = 0.999*0.00025 + 0.001*0.25 = 0.00049975,
        // lr_t = 0.1*sqrt(1-0.999^2)/(1-0.81) = 0.0235250..., w = 0.9 + 0.0235250*0.005/0.0223551 = 0.9052617
        let b1p: Float = 0.9 * 0.9, b2p: Float = 0.999 * 0.999
        UpdateRule.adam(lr: 0.1 * (1 - b2p).squareRoot() / (1 - b1p), beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
            .apply(&w, [-g], &m, &v, count: 1)
        #expect(abs(m - -0.005) < 1e-7)
        #expect(abs(v - 0.00049975) < 1e-8)
        #expect(abs(w - 0.9052617) < 2e-6)
    }

    @Test("adagrad by hand")
    func adagradByHand() {
        var w: Float = 1, acc: Float = 0.1
        UpdateRule.adagrad(lr: 0.1).apply(&w, [0.5], &acc, nil, count: 1)
        #expect(abs(acc - 0.35) < 1e-7)
        #expect(abs(w - (1 - 0.1 * 0.5 / Float(0.35).squareRoot())) < 1e-7)
        #expect(abs(w - 0.9154846) < 1e-6)
    }

    @Test("momentum by hand")
    func momentumByHand() {
        var w: Float = 1, acc: Float = 0
        let rule = UpdateRule.momentum(lr: 0.1, momentum: 0.9)
        rule.apply(&w, [0.5], &acc, nil, count: 1)
        #expect(abs(w - 0.95) < 1e-7)
        rule.apply(&w, [0.5], &acc, nil, count: 1)
        #expect(abs(acc - 0.95) < 1e-7)
        #expect(abs(w - 0.855) < 1e-6)
    }

    @Test("learning rate schedules")
    func schedules() {
        #expect(LearningRateSchedule.constant(0.002).rate(at: 12345) == 0.002)
        let stair = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 10, decayFactor: 0.5, staircase: true, minimum: 0.02)
        #expect(stair.rate(at: 0) == 0.1)
        #expect(stair.rate(at: 9) == 0.1)
        #expect(abs(stair.rate(at: 10) - 0.05) < 1e-8)
        #expect(abs(stair.rate(at: 25) - 0.025) < 1e-8)
        #expect(abs(stair.rate(at: 30) - 0.02) < 1e-8)          // 0.0125 clipped to the minimum
        let smooth = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 10, decayFactor: 0.5, staircase: false, minimum: 0)
        #expect(abs(smooth.rate(at: 5) - 0.1 * Float(0.5).squareRoot()) < 1e-7)
        #expect(abs(smooth.rate(at: 15) - 0.1 * pow(Float(0.5), 1.5)) < 1e-7)
    }

    // MARK: whole-model steps against the rule applied by hand

    struct Case: CustomStringConvertible, Sendable {
        var kind: OptimizerKind
        var description: String { "\(kind)" }
    }

    static let kinds: [Case] = [Case(kind: .defaultAdam), Case(kind: .defaultAdagrad), Case(kind: .defaultMomentum)]

    /// One step by the textbook rule: returns the new value, updates the slots.
    static func step(_ kind: OptimizerKind, lr: Float, t: Int, w: Float, g: Float, s1: inout Float, s2: inout Float) -> Float {
        switch kind {
        case .adam(let b1, let b2, let eps):
            var b1p: Float = 1, b2p: Float = 1
            for _ in 0..<t { b1p *= b1; b2p *= b2 }
            s1 = b1 * s1 + (1 - b1) * g
            s2 = b2 * s2 + (1 - b2) * g * g
            return w - lr * (1 - b2p).squareRoot() / (1 - b1p) * s1 / (s2.squareRoot() + eps)
        case .adagrad:
            s1 += g * g
            return w - lr * g / s1.squareRoot()
        case .momentum(let m):
            s1 = m * s1 + g
            return w - lr * s1
        }
    }

    @Test("two model steps equal the rule applied by hand; sparse updates are lazy", arguments: kinds)
    func modelSteps(_ c: Case) throws {
        let spec = ModelFixtures.spec(finalDnn: [3])
        let schedule = LearningRateSchedule.exponentialDecay(initial: 0.1, decaySteps: 1, decayFactor: 0.5, staircase: true, minimum: 0)
        let model = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 8),
                                        optimizer: OptimizerSettings(kind: c.kind, learningRate: schedule))
        let initial: Float
        if case .adagrad(let a) = c.kind { initial = a } else { initial = 0 }
        var dSlots = spec.denseVariables.map { [Float](repeating: initial, count: $0.elementCount) }
        var dSlots2 = spec.denseVariables.map { [Float](repeating: 0, count: $0.elementCount) }
        var sSlots: [Int: [Int64: [Float]]] = [:], sSlots2: [Int: [Int64: [Float]]] = [:]
        for (t, (batch, labels)) in [ModelFixtures.batch(size: 10, seed: 1), ModelFixtures.batch(size: 7, seed: 99)].enumerated() {
            let lr = schedule.rate(at: t)
            #expect(model.globalStep == t)
            let g = try #require(model.gradients(batch: batch, labels: labels))
            let before = model.parameters()
            let moments = ReferenceDeepFM(spec: spec, parameters: before).run(batch: batch, labels: labels, training: true).moments
            let loss = model.trainStep(batch: batch, labels: labels).loss
            #expect(loss == g.loss)
            let after = model.parameters()
            for v in spec.denseVariables {
                for i in 0..<v.elementCount {
                    let w0 = before.dense[v.id][i], w1 = after.dense[v.id][i]
                    let want: Float
                    if v.name.hasSuffix("moving_mean") || v.name.hasSuffix("moving_variance") {
                        let scope = String(v.name.prefix(upTo: v.name.range(of: "/bn/")!.lowerBound))
                        let m = try #require(moments[scope])
                        let batchValue = Float(v.name.hasSuffix("moving_mean") ? m.mean[i] : m.variance[i])
                        want = w0 - (w0 - batchValue) * 0.01
                    } else {
                        want = Self.step(c.kind, lr: lr, t: t + 1, w: w0, g: g.dense[v.id][i],
                                         s1: &dSlots[v.id][i], s2: &dSlots2[v.id][i])
                    }
                    #expect(abs(w1 - want) <= 2e-6 * max(1, abs(want)), "\(v.name)[\(i)] step \(t)")
                }
            }
            for e in spec.embeddings {
                let (keys0, values0) = Self.rows(before.tables[e.id])
                let (keys1, values1) = Self.rows(after.tables[e.id])
                #expect(keys0 == keys1)
                for (r, key) in keys1.enumerated() {
                    for k in 0..<e.dim {
                        let w0 = values0[r * e.dim + k], w1 = values1[r * e.dim + k]
                        guard let gr = g.sparse[e.id]?[key] else {
                            #expect(w1.bitPattern == w0.bitPattern, "untouched \(e.name) row \(key) changed at step \(t)")
                            continue
                        }
                        var s1 = sSlots[e.id]?[key]?[k] ?? initial, s2 = sSlots2[e.id]?[key]?[k] ?? 0
                        let want = Self.step(c.kind, lr: lr, t: t + 1, w: w0, g: gr[k], s1: &s1, s2: &s2)
                        sSlots[e.id, default: [:]][key, default: [Float](repeating: initial, count: e.dim)][k] = s1
                        sSlots2[e.id, default: [:]][key, default: [Float](repeating: 0, count: e.dim)][k] = s2
                        #expect(abs(w1 - want) <= 2e-6 * max(1, abs(want)), "\(e.name) row \(key)[\(k)] step \(t)")
                    }
                }
            }
        }
        #expect(model.globalStep == 2)
    }

    static func rows(_ t: EmbeddingTableValues) -> ([Int64], [Float]) {
        switch t {
        case .fixed(let rows, _, let v): return ((0..<Int64(rows)).map { $0 }, v)
        case .keyValue(_, let k, let v): return (k, v)
        }
    }

    @Test("optimizer state round trip continues training bit-identically", arguments: kinds)
    func stateRoundTrip(_ c: Case) throws {
        let spec = ModelFixtures.spec()
        let settings = OptimizerSettings(kind: c.kind, learningRate: .constant(0.05))
        let a = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 4), optimizer: settings, seed: 9)
        for s in 0..<4 {
            let (b, l) = ModelFixtures.batch(size: 8, seed: UInt64(s))
            _ = a.trainStep(batch: b, labels: l)
        }
        let b = try TrainableDeepFM(spec: spec, parameters: a.parameters(), optimizer: settings, seed: 9)
        let state = a.optimizerState()
        try b.restoreOptimizerState(state)
        b.globalStep = a.globalStep
        #expect(b.optimizerState().mapValues(\.values) == state.mapValues(\.values))
        for s in 10..<13 {
            let (x, l) = ModelFixtures.batch(size: 8, seed: UInt64(s))
            _ = a.trainStep(batch: x, labels: l)
            _ = b.trainStep(batch: x, labels: l)
        }
        #expect(a.parameters() == b.parameters())
        // Names follow TF: kernel slots and the key-value table's slots with its row count.
        let kernel = "deep_feature/dnn_0/kernel"
        switch c.kind {
        case .adam:
            #expect(state["\(kernel)/Adam"]?.shape == [15, 5] && state["\(kernel)/Adam_1"] != nil)
            #expect(state["beta1_power"]?.values.first.map { abs($0 - pow(0.9, 5)) < 1e-6 } == true)   // TF: the power for the next step
        case .adagrad: #expect(state["\(kernel)/Adagrad"] != nil)
        case .momentum: #expect(state["\(kernel)/Momentum"] != nil)
        }
        #expect(state["deep_feature/dnn_0/bn/moving_mean/Adam"] == nil)
    }

    @Test("restoring bad optimizer state is an error naming the slot")
    func badState() throws {
        let spec = ModelFixtures.spec()
        let m = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 4), optimizer: ModelFixtures.adam)
        var state = m.optimizerState()
        state["output/kernel/Adam"] = ([1], [0])
        #expect(throws: TrainerModelError.optimizerState(name: "output/kernel/Adam", detail: "not a slot of this model and optimizer")) {
            try m.restoreOptimizerState(state)
        }
        state = m.optimizerState()
        state["deep_logits/kernel/Adam"] = ([3, 1], [0, 0, 0])
        #expect(throws: TrainerModelError.self) { try m.restoreOptimizerState(state) }
        state = m.optimizerState()
        state.removeValue(forKey: "beta2_power")
        #expect(throws: TrainerModelError.optimizerState(name: "beta2_power", detail: "missing")) {
            try m.restoreOptimizerState(state)
        }
    }

    @Test("fine-tune restores the matching optimizer slots and leaves the rest fresh")
    func matchingStateForFineTune() throws {
        let spec = ModelFixtures.spec()
        let a = try TrainableDeepFM(spec: spec, parameters: ModelFixtures.parameters(spec: spec, seed: 4), optimizer: ModelFixtures.adam, seed: 9)
        for s in 0..<3 {
            let (b, l) = ModelFixtures.batch(size: 8, seed: UInt64(s))
            _ = a.trainStep(batch: b, labels: l)
        }
        var state = a.optimizerState()
        let kernel = "deep_feature/dnn_0/kernel/Adam"
        state[kernel] = ([1], [0])                        // wrong shape: stays fresh
        state["some_other_optimizer/slot"] = ([1], [1])   // unknown: ignored
        let b = try TrainableDeepFM(spec: spec, parameters: a.parameters(), optimizer: ModelFixtures.adam, seed: 9)
        let fresh = b.optimizerState()
        let result = b.restoreMatchingOptimizerState(state)
        #expect(result.fresh == [kernel])
        #expect(result.restored.count == fresh.count - 1 && result.restored.contains("beta1_power"))
        let after = b.optimizerState()
        for (name, v) in after where name != kernel { #expect(v.values == state[name]?.values, "\(name) not restored") }
        #expect(after[kernel]?.values == fresh[kernel]?.values)
        // A different optimizer's checkpoint restores nothing and changes nothing.
        let g = try TrainableDeepFM(spec: spec, parameters: a.parameters(),
                                    optimizer: OptimizerSettings(kind: .defaultAdagrad, learningRate: .constant(0.05)), seed: 9)
        let before = g.optimizerState().mapValues(\.values)
        #expect(g.restoreMatchingOptimizerState(a.optimizerState()).restored.isEmpty)
        #expect(g.optimizerState().mapValues(\.values) == before)
    }
}

