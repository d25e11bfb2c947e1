import Foundation

/// `odl bench write-updates`: fs-mode update files (formats.md 1.5) totalling `--bytes`.
package struct WriteUpdatesBench {
    package var export: String
    package var dir: String
    package var bytes: Int
    package var rowsPerMessage: Int = 1000

    package init(export: String, dir: String, bytes: Int, rowsPerMessage: Int = 1000) {
        self.export = export
        self.dir = dir
        self.bytes = bytes
        self.rowsPerMessage = rowsPerMessage
    }

    package func run() throws {
        let (_, _, spec) = try BenchModel.loadSpec(exportDir: export)
        let pool = try BenchUpdatePool(spec: spec, rowsPerMessage: rowsPerMessage)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written = 0, step = 1, files = 0
        let t = BenchSupport.now()
        while written < bytes {
            let m = pool.message(step: step)
            let path = dir + "/sparse_update_\(step)"
            guard FileManager.default.createFile(atPath: path, contents: Data(m)),
                  FileManager.default.createFile(atPath: path + ".done", contents: Data()) else {
                throw BenchError("\(path): cannot write")
            }
            written += m.count
            files += 1
            step += 1
        }
        try BenchSupport.emit(["bytes": written, "messages": files, "rows": files * rowsPerMessage,
                               "last_step": step - 1, "seconds": BenchSupport.now() - t])
    }
}
