import Foundation

/// `odl bench make-model`: writes a bench export (see ``BenchModel``).
package struct MakeModelBench {
    package var kind: String
    package var out: String
    package var rows: Int = 100_000
    package var dim: Int = 16
    package var dnn: String = "256,128,64"
    package var finalDnn: String = "64"
    package var seed: UInt64 = 1

    package init(kind: String, out: String, rows: Int = 100_000, dim: Int = 16, dnn: String = "256,128,64",
                 finalDnn: String = "64", seed: UInt64 = 1) {
        self.kind = kind
        self.out = out
        self.rows = rows
        self.dim = dim
        self.dnn = dnn
        self.finalDnn = finalDnn
        self.seed = seed
    }

    package func run() throws {
        guard rows > 0, dim > 0 else { throw BenchError("--rows and --dim must be positive") }
        let hidden = try BenchSupport.intList(dnn, flag: "--dnn")
        let final = finalDnn.isEmpty ? nil : try BenchSupport.intList(finalDnn, flag: "--final-dnn")
        let model: BenchModel
        switch kind {
        case "serving": model = .serving(rows: rows, dim: dim, dnn: hidden, finalDnn: final)
        case "big": model = .big(rows: rows, dim: dim, dnn: hidden, finalDnn: final)
        default: throw BenchError("--kind: \"\(kind)\" is not serving or big")
        }
        let t = BenchSupport.now()
        let (v, bytes) = try model.write(exportDir: out, seed: seed)
        try BenchSupport.emit([
            "version_dir": v, "parameter_bytes": bytes, "seconds": BenchSupport.now() - t,
            "features": model.features.map(\.name),
            "user_features": model.features.filter { $0.side == "user" }.map(\.name),
            "item_features": model.features.filter { $0.side == "item" }.map(\.name),
            "fg": model.withFG,
        ])
    }
}

