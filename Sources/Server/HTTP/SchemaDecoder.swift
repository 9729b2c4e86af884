import Foundation

/// A type that decodes from one of a fixed set of strings; the schema lists them.
protocol SchemaEnum {
    static var schemaCases: [String] { get }
    static var schemaSample: Self { get }
}

extension SchemaEnum where Self: CaseIterable & RawRepresentable, RawValue == String {
    static var schemaCases: [String] { allCases.map(\.rawValue) }
    static var schemaSample: Self { allCases.first! }
}

/// The JSON Schema of a Decodable type, found by decoding it from nothing: each field asked for
/// with its type, required unless decoded "if present". The handlers decode with the same types,
/// so the document cannot drift from them.
enum JSONSchema {
    static func of<T: Decodable>(_ type: T.Type) -> [String: Any] {
        let d = SchemaDecoder(depth: 0)
        return (try? d.schema(of: type)) ?? [:]
    }
}

/// Builds the schema while a type decodes itself from it.
final class SchemaDecoder: Decoder {
    let depth: Int
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    /// What the value turned out to be.
    var schema: [String: Any] = [:]
    var object: ObjectSchema?

    init(depth: Int) { self.depth = depth }

    /// A value of `type` decoded from the recorder, and the schema it recorded.
    func schema<T: Decodable>(of type: T.Type) throws -> [String: Any] {
        if let s = Self.known(type) { return s }
        if let e = type as? any SchemaEnum.Type { return ["type": "string", "enum": e.schemaCases] }
        guard depth < 12 else { return [:] }
        _ = try? T(from: self)  // what was asked before a refusal still counts
        if let object { return object.schema }
        return schema
    }

    /// A value to hand back to the type being decoded.
    func sample<T: Decodable>(_ type: T.Type) throws -> T {
        if let e = type as? any SchemaEnum.Type, let v = e.schemaSample as? T { return v }
        switch type {
        case is String.Type: return "" as! T
        case is Bool.Type: return false as! T
        case is Int.Type: return 0 as! T
        case is Int64.Type: return Int64(0) as! T
        case is Int32.Type: return Int32(0) as! T
        case is Int16.Type: return Int16(0) as! T
        case is Int8.Type: return Int8(0) as! T
        case is UInt.Type: return UInt(0) as! T
        case is UInt64.Type: return UInt64(0) as! T
        case is UInt32.Type: return UInt32(0) as! T
        case is UInt16.Type: return UInt16(0) as! T
        case is UInt8.Type: return UInt8(0) as! T
        case is Double.Type: return 0.0 as! T
        case is Float.Type: return Float(0) as! T
        default: break
        }
        guard depth < 12 else { throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "too deep")) }
        if type == Date.self { return Date(timeIntervalSince1970: 0) as! T }
        if type == Data.self { return Data() as! T }
        if type == URL.self { return URL(string: "https://example.test")! as! T }
        if type == UUID.self { return UUID() as! T }
        return try T(from: SchemaDecoder(depth: depth + 1))
    }

    static func known<T>(_ type: T.Type) -> [String: Any]? {
        switch type {
        case is String.Type: return ["type": "string"]
        case is Bool.Type: return ["type": "boolean"]
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type, is UInt32.Type, is Int16.Type, is UInt16.Type:
            return ["type": "integer"]
        case is Double.Type, is Float.Type: return ["type": "number"]
        case is Date.Type: return ["type": "string", "format": "date-time"]
        case is Data.Type: return ["type": "string", "contentEncoding": "base64"]
        case is URL.Type: return ["type": "string", "format": "uri"]
        case is UUID.Type: return ["type": "string", "format": "uuid"]
        default: return nil
        }
    }

    func child<T: Decodable>(_ type: T.Type) -> (value: T, schema: [String: Any])? {
        let d = SchemaDecoder(depth: depth + 1)
        d.userInfo = userInfo
        guard let s = try? d.schema(of: type), let v = try? sample(type) else { return nil }
        return (v, s)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let o = object ?? ObjectSchema()
        object = o
        return KeyedDecodingContainer(KeyedRecorder<Key>(decoder: self, object: o))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { UnkeyedRecorder(decoder: self) }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleRecorder(decoder: self) }
}

/// An object's properties as they are asked for.
final class ObjectSchema {
    var properties: [String: [String: Any]] = [:]
    var required: [String] = []
    /// Set when the type read its keys (a dictionary): the schema of every value.
    var map: [String: Any]?
    /// Fields asked for "if present".
    var optional: Set<String> = []
    /// Fields read through nested containers: their schema once the type has decoded.
    var later: [String: () -> [String: Any]] = [:]

    var schema: [String: Any] {
        if let map { return ["type": "object", "additionalProperties": map] }
        var all = properties
        for (k, f) in later { all[k] = f() }
        var s: [String: Any] = ["type": "object", "properties": all, "additionalProperties": false]
        if !required.isEmpty { s["required"] = required.sorted() }
        return s
    }

    func record(_ key: String, _ schema: [String: Any], required isRequired: Bool) {
        if key == SchemaDecoder.anyKey {
            map = schema
            return
        }
        properties[key] = isRequired ? schema : Self.nullable(schema)
        if isRequired, !required.contains(key) { required.append(key) }
    }

    static func nullable(_ s: [String: Any]) -> [String: Any] {
        var s = s
        if let t = s["type"] as? String { s["type"] = [t, "null"] }
        if var e = s["enum"] as? [Any] {
            e.append(NSNull())
            s["enum"] = e
        }
        return s
    }
}

extension SchemaDecoder {
    static let anyKey = "\u{1}*"
}
