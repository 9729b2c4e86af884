import Foundation
import PostgresNIO

/// One result row. Columns are found by name whatever their case (PostgreSQL folds unquoted
/// names to lower case), and Codable records decode from it as they do from GRDB: times as
/// seconds, booleans as 0/1, nested values as JSON text.
struct PGRow: Sendable {
    let row: PostgresRow

    func cell(_ name: String) throws -> PostgresCell {
        let r = row.makeRandomAccess()
        let lower = name.lowercased()
        guard r.contains(lower) else { throw PGDecodingError("no column \(name)") }
        return r[lower]
    }

    func cell(at index: Int) throws -> PostgresCell {
        let r = row.makeRandomAccess()
        guard index < r.count else { throw PGDecodingError("no column \(index)") }
        return r[index]
    }

    func has(_ name: String) -> Bool { row.makeRandomAccess().contains(name.lowercased()) }

    subscript<T: Decodable>(_ name: String, as type: T.Type = T.self) -> T {
        get throws { try PGCellDecoder(cell: try cell(name)).value(T.self) }
    }

    subscript<T: Decodable>(_ index: Int, as type: T.Type = T.self) -> T {
        get throws { try PGCellDecoder(cell: try cell(at: index)).value(T.self) }
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: PGRecordDecoder(row: self)) }
}

struct PGDecodingError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Decodes a record from a row, one column per property.
struct PGRecordDecoder: Decoder {
    let row: PGRow
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(row: row))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw PGDecodingError("a row is not a list") }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { throw PGDecodingError("a row is not one value") }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: PGRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { row.has(key.stringValue) }
        func decodeNil(forKey key: Key) throws -> Bool { try row.cell(key.stringValue).bytes == nil }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try PGCellDecoder(cell: try row.cell(key.stringValue)).value(T.self)
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw PGDecodingError("nested containers are stored as JSON")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw PGDecodingError("nested containers are stored as JSON")
        }
        func superDecoder() throws -> any Decoder { throw PGDecodingError("no super decoder") }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw PGDecodingError("no super decoder") }
    }
}

/// Decodes one column's value.
struct PGCellDecoder: Decoder, SingleValueDecodingContainer {
    let cell: PostgresCell
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Thrown when a value asks for a container: it is stored as JSON text.
    struct NeedsJSON: Error {}

    func value<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == Date.self { return Date(timeIntervalSince1970: try decode(Double.self)) as! T }
        if T.self == Data.self { return try cell.decode(Data.self) as! T }
        do { return try T(from: self) } catch is NeedsJSON {
            return try JSONDecoder().decode(T.self, from: Data(try cell.decode(String.self).utf8))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NeedsJSON() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { cell.bytes == nil }
    func decode(_ type: Bool.Type) throws -> Bool {
        if cell.dataType == .bool { return try cell.decode(Bool.self) }
        return try cell.decode(Int64.self) != 0
    }
    func decode(_ type: String.Type) throws -> String { try cell.decode(String.self) }
    func decode(_ type: Double.Type) throws -> Double {
        switch cell.dataType {
        case .int2, .int4, .int8: return Double(try cell.decode(Int64.self))
        default: return try cell.decode(Double.self)
        }
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try cell.decode(Int.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try cell.decode(Int64.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(try cell.decode(Int64.self)) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(try cell.decode(Int64.self)) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(try cell.decode(Int64.self)) }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(try cell.decode(Int64.self)) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(try cell.decode(Int64.self)) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(try cell.decode(Int64.self)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(try cell.decode(Int64.self)) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(try cell.decode(Int64.self)) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try value(T.self) }
}
