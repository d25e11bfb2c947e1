/// The sample line layout of `data_config`: which fields a line holds, which are labels, how to split.
public struct SampleLayout: Sendable, Equatable {
    /// Value type of an input field (`DatasetConfig.FieldType`).
    public enum FieldType: String, Sendable, Equatable {
        case int32, int64, string, float, double, bool

        /// Whether the field must parse as a number.
        var isNumeric: Bool { self != .string }
    }

    /// One `data_config.input_fields` entry.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var type: FieldType
        public var defaultValue: String

        public init(name: String, type: FieldType, defaultValue: String = "") {
            self.name = name
            self.type = type
            self.defaultValue = defaultValue
        }
    }

    /// All input fields in line order (labels included).
    public var fields: [Field]
    /// Indices into ``fields`` of `label_fields` (the first is the DeepFM label).
    public var labelIndices: [Int]
    /// Field separator of a line (`data_config.separator`, default ",").
    public var separator: String

    /// Builds the schema; throws when a label field is not among the input fields.
    public init(fields: [Field], labelFields: [String], separator: String = ",") throws {
        guard !fields.isEmpty else {
            throw TrainerError.config(field: "data_config.input_fields", reason: "no input fields")
        }
        guard !labelFields.isEmpty else {
            throw TrainerError.config(field: "data_config.label_fields", reason: "no label field")
        }
        guard !separator.isEmpty else {
            throw TrainerError.config(field: "data_config.separator", reason: "empty separator")
        }
        var idx: [Int] = []
        for l in labelFields {
            guard let i = fields.firstIndex(where: { $0.name == l }) else {
                throw TrainerError.config(field: "data_config.label_fields", reason: "label \(l) is not an input field")
            }
            idx.append(i)
        }
        self.fields = fields
        self.labelIndices = idx
        self.separator = separator
    }

    /// Index of a field by name.
    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }
}
