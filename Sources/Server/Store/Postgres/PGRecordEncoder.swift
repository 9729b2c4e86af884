import Foundation

/// Encodes a record into its columns, as GRDB stores it: times as seconds, booleans as 0/1,
/// nested values as JSON text, nil as NULL.
final class PGRecordEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private(set) var columns: [(name: String, value: PGValue)] = []

    static func columns<T: Encodable>(of record: T) throws -> [(name: String, value: PGValue)] {
        let e = PGRecordEncoder()
        try record.encode(to: e)
        return e.columns
    }

    func set(_ name: String, _ value: PGValue) {
        if let i = columns.firstIndex(where: { $0.name == name }) { columns[i].value = value } else { columns.append((name, value)) }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { KeyedEncodingContainer(Keyed(encoder: self)) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("a record encodes as columns") }
    func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("a record encodes as columns") }

    /// One column's value: a primitive, or JSON text for anything that asks for a container.
    static func value<T: Encodable>(_ v: T) throws -> PGValue {
        switch v {
        case let d as Date: return .double(d.timeIntervalSince1970)
        case let d as Data: return .bytes(d)
        case let b as any PGBindable: return b.pgValue
        default:
            let single = Single()
            do {
                try v.encode(to: single)
                if !single.wantsContainer { return single.value ?? .null }
            } catch is Single.NeedsJSON {}
            do {
                let enc = JSONEncoder()
                enc.outputFormatting = .sortedKeys
                return .text(String(decoding: try enc.encode(v), as: UTF8.self))
            }
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: PGRecordEncoder
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws { encoder.set(key.stringValue, .null) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { encoder.set(key.stringValue, try PGRecordEncoder.value(value)) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            encoder.set(key.stringValue, try value.map { try PGRecordEncoder.value($0) } ?? .null)
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            fatalError("nested values are encoded as JSON")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { fatalError("nested values are encoded as JSON") }
        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
    }

    /// Encodes a single value (an enum's raw value, say); a container means JSON.
    final class Single: Encoder, SingleValueEncodingContainer {
        struct NeedsJSON: Error {}
        var value: PGValue?
        var wantsContainer = false
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            wantsContainer = true
            return KeyedEncodingContainer(Refuse<Key>())
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            wantsContainer = true
            return RefuseList()
        }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }
        func encodeNil() throws { value = .null }
        func encode<T: Encodable>(_ v: T) throws { value = try PGRecordEncoder.value(v) }
    }

    struct Refuse<Key: CodingKey>: KeyedEncodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws { throw Single.NeedsJSON() }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { throw Single.NeedsJSON() }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            KeyedEncodingContainer(Refuse<N>())
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { RefuseList() }
        mutating func superEncoder() -> any Encoder { Single() }
        mutating func superEncoder(forKey key: Key) -> any Encoder { Single() }
    }

    struct RefuseList: UnkeyedEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count: Int { 0 }
        mutating func encodeNil() throws { throw Single.NeedsJSON() }
        mutating func encode<T: Encodable>(_ value: T) throws { throw Single.NeedsJSON() }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> { KeyedEncodingContainer(Refuse<N>()) }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { RefuseList() }
        mutating func superEncoder() -> any Encoder { Single() }
    }
}
