/// `withUnsafeBytes` for closures with a typed error (the standard library's is `rethrows`).
@inline(__always)
package func withRawBytes<T, R, E: Error>(_ array: [T], _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    try array.withUnsafeBytes { raw in Result { () throws(E) -> R in try body(raw) } }.get()
}
