import Testing
@testable import Trainer

@Suite struct SampleParserTests {
    func layout(_ sep: String = ",") throws -> SampleLayout {
        try SampleLayout(fields: [.init(name: "label", type: .int64, defaultValue: "0"),
                                  .init(name: "hour", type: .int64, defaultValue: "0"),
                                  .init(name: "price", type: .double, defaultValue: "1.5"),
                                  .init(name: "site", type: .string, defaultValue: "none")],
                         labelFields: ["label"], separator: sep)
    }

    @Test func parsesFieldsAndDefaults() throws {
        var p = SampleParser(schema: try layout())
        try p.parse("1,14,,abc\n")
        #expect(p.fields == ["1", "14", "1.5", "abc"])
        #expect(p.usedDefaults)
        #expect(String(decoding: p.line, as: UTF8.self) == "1,14,1.5,abc")
        #expect(p.label == 1)
        try p.parse("1,14,2,abc")
        #expect(!p.usedDefaults)
        try p.parse("0,3,2.25,")
        #expect(p.fields == ["0", "3", "2.25", "none"])
        #expect(p.label == 0)
    }

    @Test func multiByteSeparator() throws {
        var p = SampleParser(schema: try layout("\u{1}\u{2}"))
        try p.parse("1\u{1}\u{2}14\u{1}\u{2}3\u{1}\u{2}x\u{3}y")
        #expect(p.fields == ["1", "14", "3", "x\u{3}y"])
    }

    @Test func badSamplesAreTyped() throws {
        var p = SampleParser(schema: try layout())
        #expect(throws: BadSample.fieldCount(expected: 4, found: 3)) { try p.parse("1,2,3") }
        #expect(throws: BadSample.fieldCount(expected: 4, found: 5)) { try p.parse("1,2,3,4,5") }
        #expect(throws: BadSample.notANumber(field: "hour", value: "x1")) { try p.parse("1,x1,3,a") }
        #expect(throws: BadSample.notANumber(field: "price", value: "nan")) { try p.parse("1,1,nan,a") }
        #expect(throws: BadSample.badLabel(field: "label", value: "yes")) { try p.parse("yes,1,2,a") }
        // A good line after bad ones parses normally.
        try p.parse("0,1,2,a")
        #expect(p.fields[3] == "a")
    }

    @Test func layoutValidation() {
        #expect(throws: TrainerError.self) { try SampleLayout(fields: [.init(name: "a", type: .string)], labelFields: ["clk"]) }
        #expect(throws: TrainerError.self) { try SampleLayout(fields: [], labelFields: ["clk"]) }
    }
}
