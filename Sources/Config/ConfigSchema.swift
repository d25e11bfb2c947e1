import Foundation
import SwiftProtobuf

/// The field layout of the config messages, read from the embedded descriptor of
/// proto/easy_rec.proto (so it always matches the generated Swift types).
struct ConfigSchema: Sendable {
    enum FieldType: Equatable, Sendable {
        case double, float, int32, int64, uint32, uint64, bool, string, bytes
        case enumeration(String)
        case message(String)
    }

    struct Field: Sendable {
        var name: String
        var number: Int32
        var type: FieldType
        var isRepeated: Bool
        var oneofIndex: Int?
        var jsonName: String
    }

    struct Message: Sendable {
        var fullName: String
        var fields: [Field]
        var oneofNames: [String]
        private var index: [String: Int] = [:]

        init(fullName: String, fields: [Field], oneofNames: [String]) {
            self.fullName = fullName
            self.fields = fields
            self.oneofNames = oneofNames
            for (i, f) in fields.enumerated() {
                index[f.name] = i
                index[f.jsonName] = index[f.jsonName] ?? i
            }
        }

        /// The field with this proto name (or JSON lowerCamelCase name).
        func field(_ name: String) -> Field? { index[name].map { fields[$0] } }

        /// Other members of `field`'s oneof.
        func oneofSiblings(of field: Field) -> [Field] {
            guard let o = field.oneofIndex else { return [] }
            return fields.filter { $0.oneofIndex == o && $0.name != field.name }
        }
    }

    struct Enumeration: Sendable {
        var fullName: String
        var values: [(name: String, number: Int32)]
        func number(of name: String) -> Int32? { values.first(where: { $0.name == name })?.number }
        func name(of number: Int32) -> String? { values.first(where: { $0.number == number })?.name }
    }

    var messages: [String: Message] = [:]
    var enums: [String: Enumeration] = [:]

    /// Full name of EasyRecConfig, the root message.
    static let rootName = ".easy_rec.python.protos.EasyRecConfig"

    /// The schema of the embedded descriptor.
    static let shared: Result<ConfigSchema, ConfigError> = {
        guard let data = Data(base64Encoded: EasyRecDescriptor.fileDescriptorSetBase64) else {
            return .failure(ConfigError(.invalid, path: "", reason: "embedded config descriptor is not base64"))
        }
        do {
            let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: data)
            return .success(ConfigSchema(set))
        } catch {
            return .failure(ConfigError(.invalid, path: "", reason: "embedded config descriptor is corrupt: \(error)"))
        }
    }()

    static func load() throws(ConfigError) -> ConfigSchema {
        switch shared {
        case .success(let s): return s
        case .failure(let e): throw e
        }
    }

    init(_ set: Google_Protobuf_FileDescriptorSet) {
        for file in set.file {
            let prefix = file.package.isEmpty ? "" : "." + file.package
            for e in file.enumType { addEnum(e, prefix: prefix) }
            for m in file.messageType { addMessage(m, prefix: prefix) }
        }
    }

    private mutating func addEnum(_ e: Google_Protobuf_EnumDescriptorProto, prefix: String) {
        let name = prefix + "." + e.name
        enums[name] = Enumeration(fullName: name, values: e.value.map { ($0.name, $0.number) })
    }

    private mutating func addMessage(_ m: Google_Protobuf_DescriptorProto, prefix: String) {
        let name = prefix + "." + m.name
        for e in m.enumType { addEnum(e, prefix: name) }
        for n in m.nestedType { addMessage(n, prefix: name) }
        let fields = m.field.map { f -> Field in
            let type: FieldType
            switch f.type {
            case .double: type = .double
            case .float: type = .float
            case .int64, .sint64, .sfixed64: type = .int64
            case .uint64, .fixed64: type = .uint64
            case .int32, .sint32, .sfixed32: type = .int32
            case .uint32, .fixed32: type = .uint32
            case .bool: type = .bool
            case .string: type = .string
            case .bytes: type = .bytes
            case .enum: type = .enumeration(f.typeName)
            case .message, .group: type = .message(f.typeName)
            }
            return Field(name: f.name, number: f.number, type: type, isRepeated: f.label == .repeated,
                         oneofIndex: f.hasOneofIndex ? Int(f.oneofIndex) : nil,
                         jsonName: f.hasJsonName ? f.jsonName : f.name)
        }
        messages[name] = Message(fullName: name, fields: fields, oneofNames: m.oneofDecl.map(\.name))
    }

    func message(_ fullName: String) throws(ConfigError) -> Message {
        guard let m = messages[fullName] else {
            throw ConfigError(.invalid, path: "", reason: "message \(fullName) missing from the embedded descriptor")
        }
        return m
    }

    func enumeration(_ fullName: String) throws(ConfigError) -> Enumeration {
        guard let e = enums[fullName] else {
            throw ConfigError(.invalid, path: "", reason: "enum \(fullName) missing from the embedded descriptor")
        }
        return e
    }
}
