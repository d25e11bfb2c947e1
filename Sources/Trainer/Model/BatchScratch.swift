/// Activations of one dense layer over a batch, kept for the backward pass.
final class LayerScratch {
    let outDim: Int
    /// `x W + b`, replaced by the normalized value (x-hat) when the layer uses batch norm.
    let pre = TrainBuffer(count: 0)
    /// The layer output (after BN and ReLU).
    let act = TrainBuffer(count: 0)
    /// Statistics used by batch norm in this pass (batch statistics when training).
    let mean: TrainBuffer
    let variance: TrainBuffer
    let invStd: TrainBuffer
    /// Backward reductions of batch norm.
    let sum1: TrainBuffer
    let sum2: TrainBuffer

    init(outDim: Int) {
        self.outDim = outDim
        mean = TrainBuffer(count: outDim)
        variance = TrainBuffer(count: outDim)
        invStd = TrainBuffer(count: outDim)
        sum1 = TrainBuffer(count: outDim)
        sum2 = TrainBuffer(count: outDim)
    }

    func prepare(rows: Int) {
        pre.reserveScratch(rows * outDim)
        act.reserveScratch(rows * outDim)
    }
}

/// One feature's lookups in the current batch: the resolved row of each entry (-1 = none)
/// and, for deep features, the combiner scale per item. One object per feature so that two
/// compute threads can fill different features.
final class FeatureEntries {
    var rows: [Int32] = []
    var scales: [Float] = []
}

/// Preallocated per-batch buffers of a ``TrainableDeepFM``; grown when a larger batch arrives.
final class BatchScratch {
    let wideCount: Int, wideDim: Int, deepCount: Int, deepDim: Int
    let headInputDim: Int
    let maxWidth: Int
    let deepLayers: [LayerScratch]
    let topLayers: [LayerScratch]
    let wideOut = TrainBuffer(count: 0)
    let wideSum = TrainBuffer(count: 0)
    let deepIn = TrainBuffer(count: 0)
    /// Sum over deep features of their vectors (FM), and the FM output.
    let fmSum = TrainBuffer(count: 0)
    let fm = TrainBuffer(count: 0)
    /// concat(wide, fm, deep) for final_dnn.
    let h0 = TrainBuffer(count: 0)
    let logits = TrainBuffer(count: 0)
    let probs = TrainBuffer(count: 0)
    /// Gradient ping-pong buffers and the deep-output gradient slice.
    let gradA = TrainBuffer(count: 0)
    let gradB = TrainBuffer(count: 0)
    let gradDeep = TrainBuffer(count: 0)
    let transposed: TrainBuffer
    /// One row-gradient temporary per compute thread.
    let rowGrad: [TrainBuffer]
    /// Per wide / deep feature: resolved row of each entry (-1 = not used), and per item the
    /// combiner scale of deep features.
    let wideEntries: [FeatureEntries]
    let deepEntries: [FeatureEntries]

    init(layout: ModelLayout) {
        wideCount = layout.wideTables.count
        wideDim = layout.wideDim
        deepCount = layout.deepTables.count
        deepDim = layout.deepDim
        let deepStack = layout.deepStack, topStack = layout.topStack
        deepLayers = deepStack.map { LayerScratch(outDim: $0.outDim) }
        topLayers = topStack.map { LayerScratch(outDim: $0.outDim) }
        headInputDim = 1 + layout.deepDim + layout.deepOutputDim
        var widest = max(layout.deepInputDim, headInputDim, 1)
        var maxKernel = 1
        for l in deepStack + topStack {
            widest = max(widest, l.outDim, l.inDim)
            maxKernel = max(maxKernel, l.inDim * l.outDim)
        }
        maxWidth = widest
        transposed = TrainBuffer(count: maxKernel)
        rowGrad = (0..<2).map { _ in TrainBuffer(count: max(layout.deepDim, layout.wideDim, 1)) }
        wideEntries = (0..<wideCount).map { _ in FeatureEntries() }
        deepEntries = (0..<deepCount).map { _ in FeatureEntries() }
    }

    func prepare(rows: Int) {
        wideOut.reserveScratch(rows * wideCount * wideDim)
        wideSum.reserveScratch(rows)
        deepIn.reserveScratch(rows * deepCount * deepDim)
        fmSum.reserveScratch(rows * deepDim)
        fm.reserveScratch(rows * deepDim)
        h0.reserveScratch(rows * headInputDim)
        logits.reserveScratch(rows)
        probs.reserveScratch(rows)
        gradA.reserveScratch(rows * maxWidth)
        gradB.reserveScratch(rows * maxWidth)
        gradDeep.reserveScratch(rows * maxWidth)
        for l in deepLayers { l.prepare(rows: rows) }
        for l in topLayers { l.prepare(rows: rows) }
    }
}
