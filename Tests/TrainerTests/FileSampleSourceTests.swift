import Foundation
import Testing
@testable import Trainer

@Suite struct FileSampleSourceTests {
    @Test func readsFilesInOrderAndNamesLines() throws {
        let dir = makeTempDir()
        try "1,a\n0,b\n\n1,c".write(toFile: dir + "/part-0.csv", atomically: true, encoding: .utf8)
        try "0,d\n".write(toFile: dir + "/part-1.csv", atomically: true, encoding: .utf8)
        let paths = try FileSampleSource.expand(dir + "/part-*.csv")
        #expect(paths.map { ($0 as NSString).lastPathComponent } == ["part-0.csv", "part-1.csv"])
        let src = FileSampleSource(paths: paths)
        var all: [SampleRecord] = []
        while !src.isExhausted { all += try src.poll(maxRecords: 2, timeout: 0) }
        #expect(all.map { String(decoding: $0.value, as: UTF8.self) } == ["1,a", "0,b", "1,c", "0,d"])
        #expect(src.describe(all[2]) == "file \(paths[0]) line 4")
        #expect(!src.hasOffsets)
    }

    @Test func repeatingSourceStartsOverAndEmptyInputEnds() throws {
        let dir = makeTempDir()
        try "1,a\n0,b\n".write(toFile: dir + "/a.csv", atomically: true, encoding: .utf8)
        let src = FileSampleSource(paths: [dir + "/a.csv"], repeating: true)
        let got = try src.poll(maxRecords: 5, timeout: 0)
        #expect(got.map { String(decoding: $0.value, as: UTF8.self) } == ["1,a", "0,b", "1,a", "0,b", "1,a"])
        #expect(src.passes == 2 && !src.isExhausted)
        try "\n".write(toFile: dir + "/empty.csv", atomically: true, encoding: .utf8)
        let empty = FileSampleSource(paths: [dir + "/empty.csv"], repeating: true)
        #expect(try empty.poll(maxRecords: 5, timeout: 0).isEmpty)
        #expect(empty.isExhausted)
    }

    @Test func missingFilesAreNamed() {
        #expect(throws: TrainerError.input(source: "/nonexistent/x.csv", reason: "train_input_path file does not exist")) {
            try FileSampleSource.expand("/nonexistent/x.csv")
        }
        #expect(throws: TrainerError.self) { try FileSampleSource.expand("/nonexistent/*.csv") }
    }

    @Test func rtpLinesBecomeCsvLayout() throws {
        let dir = makeTempDir()
        try "1;x;a\u{2}b\u{3}c\n0;y;d".write(toFile: dir + "/rtp.txt", atomically: true, encoding: .utf8)
        let layout = try SampleLayout(fields: [.init(name: "clk", type: .int64), .init(name: "f1", type: .string), .init(name: "f2", type: .string)],
                                      labelFields: ["clk"], separator: "\u{2}")
        let src = FileSampleSource(paths: [dir + "/rtp.txt"], format: .rtp(columnSeparator: ";", selectedColumns: [0, 2], layout: layout))
        let recs = try src.poll(maxRecords: 10, timeout: 0)
        var parser = SampleParser(schema: layout)
        try parser.parse(String(decoding: recs[0].value, as: UTF8.self))
        #expect(parser.fields == ["1", "a", "b\u{3}c"])
        #expect(throws: BadSample.fieldCount(expected: 3, found: 2)) { try parser.parse(String(decoding: recs[1].value, as: UTF8.self)) }
    }
}
