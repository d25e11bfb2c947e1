/// The built-in type OIDs odl reads (pg_type.oid; fixed in every PostgreSQL release).
public enum PGType {
    public static let bool: UInt32 = 16
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let bpchar: UInt32 = 1042
    public static let varchar: UInt32 = 1043
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let boolArray: UInt32 = 1000
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let varcharArray: UInt32 = 1015
    public static let int8Array: UInt32 = 1016
    public static let float4Array: UInt32 = 1021
    public static let float8Array: UInt32 = 1022

    /// Element type of an array type, nil when `oid` is not an array odl reads.
    public static func element(ofArray oid: UInt32) -> UInt32? {
        switch oid {
        case boolArray: return bool
        case int2Array: return int2
        case int4Array: return int4
        case int8Array: return int8
        case textArray: return text
        case varcharArray: return varchar
        case float4Array: return float4
        case float8Array: return float8
        default: return nil
        }
    }

    /// True for the text-like scalar types.
    public static func isText(_ oid: UInt32) -> Bool { oid == text || oid == varchar || oid == bpchar || oid == name }
}
