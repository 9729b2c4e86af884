import Foundation
import Hummingbird
import NIOCore

/// A request body: decoded strictly (unknown fields refused) and then validated.
protocol APIBody: Decodable, Sendable {
    /// Every field the body may carry; also what the OpenAPI document lists.
    static var fields: [String] { get }
    /// Fields that must be present.
    static var required: [String] { get }
    /// Checks beyond types; throws `APIError` for bad values.
    func validate() throws
}

extension APIBody {
    static var required: [String] { [] }
    func validate() throws {}
}

extension Request {
    /// Reads and decodes a JSON body: right content type, within the size limit, well-formed,
    /// no unknown or missing fields, right types. Anything else is a 4xx that changes nothing.
    mutating func decodeStrict<T: APIBody>(_ type: T.Type, limit: Int) async throws -> T {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit) bytes")
        }
        return try Self.decodeStrict(type, from: Data(buffer.readableBytesView))
    }

    /// The same, from a body already read (the console builds one from a form).
    static func decodeStrict<T: APIBody>(_ type: T.Type, from data: Data) throws -> T {
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw APIError.badRequest("malformed_json", "the body is not a JSON object")
        }
        if let unknown = dict.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw APIError.badRequest("unknown_field", "unknown field '\(unknown)'")
        }
        if let missing = T.required.first(where: { dict[$0] == nil || dict[$0] is NSNull }) {
            throw APIError.badRequest("missing_field", "field '\(missing)' is required")
        }
        try UnknownFields.check(dict, as: T.self)
        let value: T
        do {
            let decoder = JSONDecoder.api
            decoder.userInfo[.strictFields] = true
            value = try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid_field", Self.describe(error))
        } catch let error as any APIFailure {
            throw error
        } catch {
            throw APIError.badRequest("invalid_body", "the body could not be read")
        }
        try value.validate()
        return value
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ ctx: DecodingError.Context) -> String {
            let p = ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "body" : "field '\(p)'"
        }
        switch error {
        case .typeMismatch(_, let ctx): return "\(path(ctx)) has the wrong type"
        case .valueNotFound(_, let ctx): return "\(path(ctx)) must not be null"
        case .keyNotFound(let key, _): return "field '\(key.stringValue)' is required"
        case .dataCorrupted(let ctx): return "\(path(ctx)) is not valid"
        @unknown default: return "the body is not valid"
        }
    }
}

extension JSONDecoder {
    static var api: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}

extension JSONEncoder {
    static var api: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

/// Any field name, to see every key of an object.
struct FieldName: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension CodingUserInfoKey {
    /// Set while a request body is decoded: nested objects refuse unknown fields. Stored JSON is
    /// read without it, so a field a newer node wrote does not make the whole value unreadable.
    static let strictFields = CodingUserInfoKey(rawValue: "custody.strictFields")!
}

extension Decoder {
    /// Refuses a nested object's unknown fields, as `decodeStrict` refuses a body's.
    func refuseUnknownFields(_ known: [String]) throws {
        guard userInfo[.strictFields] as? Bool == true else { return }
        let c = try container(keyedBy: FieldName.self)
        guard let bad = c.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) else { return }
        let path = (codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue } + [bad]).joined(separator: ".")
        throw APIError.badRequest("unknown_field", "unknown field '\(path)'")
    }
}
