import Foundation

/// The containers `SchemaDecoder` hands out: each records what is asked of it and answers with a
/// sample value (an empty string, zero, false, an enum's first case).
struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: SchemaDecoder
    let object: ObjectSchema
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// Only a dictionary reads its keys: one key stands for all of them.
    var allKeys: [Key] { [Key(stringValue: SchemaDecoder.anyKey)].compactMap { $0 } }
    func contains(_ key: Key) -> Bool { true }

    /// Asked only by `decodeIfPresent`: the field may be absent or null.
    func decodeNil(forKey key: Key) throws -> Bool {
        object.optional.insert(key.stringValue)
        return false
    }

    func value<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        let found = decoder.child(type)
        object.record(key.stringValue, found?.schema ?? [:], required: !object.optional.contains(key.stringValue))
        guard let v = found?.value else { throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: "no sample")) }
        return v
    }

    func decode(_ t: Bool.Type, forKey k: Key) throws -> Bool { try value(t, k) }
    func decode(_ t: String.Type, forKey k: Key) throws -> String { try value(t, k) }
    func decode(_ t: Double.Type, forKey k: Key) throws -> Double { try value(t, k) }
    func decode(_ t: Float.Type, forKey k: Key) throws -> Float { try value(t, k) }
    func decode(_ t: Int.Type, forKey k: Key) throws -> Int { try value(t, k) }
    func decode(_ t: Int8.Type, forKey k: Key) throws -> Int8 { try value(t, k) }
    func decode(_ t: Int16.Type, forKey k: Key) throws -> Int16 { try value(t, k) }
    func decode(_ t: Int32.Type, forKey k: Key) throws -> Int32 { try value(t, k) }
    func decode(_ t: Int64.Type, forKey k: Key) throws -> Int64 { try value(t, k) }
    func decode(_ t: UInt.Type, forKey k: Key) throws -> UInt { try value(t, k) }
    func decode(_ t: UInt8.Type, forKey k: Key) throws -> UInt8 { try value(t, k) }
    func decode(_ t: UInt16.Type, forKey k: Key) throws -> UInt16 { try value(t, k) }
    func decode(_ t: UInt32.Type, forKey k: Key) throws -> UInt32 { try value(t, k) }
    func decode(_ t: UInt64.Type, forKey k: Key) throws -> UInt64 { try value(t, k) }
    func decode<T: Decodable>(_ t: T.Type, forKey k: Key) throws -> T { try value(t, k) }

    /// An optional field whose type cannot be sampled still gets its schema, and the rest go on.
    func decodeIfPresent<T: Decodable>(_ t: T.Type, forKey k: Key) throws -> T? {
        object.optional.insert(k.stringValue)
        return try? value(t, k)
    }

    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        let d = SchemaDecoder(depth: decoder.depth + 1)
        let c = try d.container(keyedBy: type)
        object.later[key.stringValue] = { d.object?.schema ?? [:] }
        return c
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let d = SchemaDecoder(depth: decoder.depth + 1)
        object.later[key.stringValue] = { d.schema }
        return UnkeyedRecorder(decoder: d)
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { SchemaDecoder(depth: decoder.depth + 1) }
}

/// An array: one element stands for all.
struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let decoder: SchemaDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { 1 }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex >= 1 }

    init(decoder: SchemaDecoder) {
        self.decoder = decoder
        decoder.schema = ["type": "array"]
    }

    mutating func decodeNil() throws -> Bool { false }

    mutating func value<T: Decodable>(_ type: T.Type) throws -> T {
        currentIndex += 1
        let found = decoder.child(type)
        decoder.schema = ["type": "array", "items": found?.schema ?? [:]]
        guard let v = found?.value else { throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "no sample")) }
        return v
    }

    mutating func decode(_ t: Bool.Type) throws -> Bool { try value(t) }
    mutating func decode(_ t: String.Type) throws -> String { try value(t) }
    mutating func decode(_ t: Double.Type) throws -> Double { try value(t) }
    mutating func decode(_ t: Float.Type) throws -> Float { try value(t) }
    mutating func decode(_ t: Int.Type) throws -> Int { try value(t) }
    mutating func decode(_ t: Int8.Type) throws -> Int8 { try value(t) }
    mutating func decode(_ t: Int16.Type) throws -> Int16 { try value(t) }
    mutating func decode(_ t: Int32.Type) throws -> Int32 { try value(t) }
    mutating func decode(_ t: Int64.Type) throws -> Int64 { try value(t) }
    mutating func decode(_ t: UInt.Type) throws -> UInt { try value(t) }
    mutating func decode(_ t: UInt8.Type) throws -> UInt8 { try value(t) }
    mutating func decode(_ t: UInt16.Type) throws -> UInt16 { try value(t) }
    mutating func decode(_ t: UInt32.Type) throws -> UInt32 { try value(t) }
    mutating func decode(_ t: UInt64.Type) throws -> UInt64 { try value(t) }
    mutating func decode<T: Decodable>(_ t: T.Type) throws -> T { try value(t) }

    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        currentIndex += 1
        let d = SchemaDecoder(depth: decoder.depth + 1)
        let c = try d.container(keyedBy: type)
        decoder.schema = ["type": "array", "items": d.object?.schema ?? ["type": "object"]]
        return c
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        currentIndex += 1
        return UnkeyedRecorder(decoder: SchemaDecoder(depth: decoder.depth + 1))
    }

    mutating func superDecoder() throws -> any Decoder { SchemaDecoder(depth: decoder.depth + 1) }
}

/// One value: its schema becomes the decoder's.
struct SingleRecorder: SingleValueDecodingContainer {
    let decoder: SchemaDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { false }

    func value<T: Decodable>(_ type: T.Type) throws -> T {
        let found = decoder.child(type)
        decoder.schema = found?.schema ?? [:]
        guard let v = found?.value else { throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "no sample")) }
        return v
    }

    func decode(_ t: Bool.Type) throws -> Bool { try value(t) }
    func decode(_ t: String.Type) throws -> String { try value(t) }
    func decode(_ t: Double.Type) throws -> Double { try value(t) }
    func decode(_ t: Float.Type) throws -> Float { try value(t) }
    func decode(_ t: Int.Type) throws -> Int { try value(t) }
    func decode(_ t: Int8.Type) throws -> Int8 { try value(t) }
    func decode(_ t: Int16.Type) throws -> Int16 { try value(t) }
    func decode(_ t: Int32.Type) throws -> Int32 { try value(t) }
    func decode(_ t: Int64.Type) throws -> Int64 { try value(t) }
    func decode(_ t: UInt.Type) throws -> UInt { try value(t) }
    func decode(_ t: UInt8.Type) throws -> UInt8 { try value(t) }
    func decode(_ t: UInt16.Type) throws -> UInt16 { try value(t) }
    func decode(_ t: UInt32.Type) throws -> UInt32 { try value(t) }
    func decode(_ t: UInt64.Type) throws -> UInt64 { try value(t) }
    func decode<T: Decodable>(_ t: T.Type) throws -> T { try value(t) }
}
