import Foundation

/// What a route answers on success, for the OpenAPI document and the tests that check answers
/// against it. The types are those the handler encodes.
enum ResponseShape: @unchecked Sendable {
    /// Not described yet: any JSON.
    case unspecified
    /// No body (204).
    case empty
    /// One value of this type.
    case object(any Decodable.Type)
    /// A page of a list: an array of this type, with `X-Next-Cursor` and `Link` when more follow.
    case list(any Decodable.Type)
    /// Not JSON: a file of this media type (or of one of `also`, as the request chooses).
    case file(String, also: [String] = [])
    /// A report: this type as JSON, or its rows as CSV (`?format=csv`).
    case report(any Decodable.Type)
}

/// A query parameter a route reads.
struct QueryParam: Sendable {
    enum Kind: Sendable {
        /// One line of at most 200 characters, no control characters (`ListParameters.text`).
        case string
        /// A token the server made (a cursor): at most 2048 characters.
        case token
        case boolean, dateTime
        /// A UTC day, `2026-01-31`.
        case date
        case integer(ClosedRange<Int>)
        case choice([String])
    }

    let name: String
    let kind: Kind
    let about: String

    init(_ name: String, _ kind: Kind = .string, _ about: String = "") {
        self.name = name
        self.kind = kind
        self.about = about
    }

    static func paging(max: Int = PageRequest.maxLimit) -> [QueryParam] {
        [QueryParam("limit", .integer(1...max), "rows in the page (default \(PageRequest.defaultLimit))"),
            QueryParam("cursor", .token, "the X-Next-Cursor of the previous page")]
    }

    static func choice<T: CaseIterable & RawRepresentable>(_ name: String, _: T.Type, _ about: String = "") -> QueryParam
    where T.RawValue == String {
        QueryParam(name, .choice(T.allCases.map(\.rawValue)), about)
    }

    var schema: [String: Any] {
        switch kind {
        case .string: return ["type": "string", "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f]*$"]
        case .token: return ["type": "string", "maxLength": 2048]
        case .boolean: return ["type": "string", "enum": ["true", "false"]]
        case .dateTime: return ["type": "string", "format": "date-time"]
        case .date: return ["type": "string", "format": "date"]
        case .integer(let r): return ["type": "integer", "minimum": r.lowerBound, "maximum": r.upperBound]
        case .choice(let values): return ["type": "string", "enum": values]
        }
    }
}
