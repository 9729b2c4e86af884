import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The query of a list: `limit` and `cursor` for paging, and the filters each list names.
/// A bad value is a 400 that says what is allowed, and nothing is read.
struct ListParameters {
    let query: [String: String]

    init(_ req: Request) {
        var q: [String: String] = [:]
        for (k, v) in req.uri.queryParameters { q[String(k)] = String(v) }  // already decoded once
        query = q
    }

    /// `limit` (1...max, default `PageRequest.defaultLimit`) and `cursor` (a token from `X-Next-Cursor`).
    func page(max: Int = PageRequest.maxLimit, defaultLimit: Int = PageRequest.defaultLimit) throws -> PageRequest {
        var page = PageRequest(limit: defaultLimit)
        if let l = query["limit"] {
            guard let n = Int(l), (1...max).contains(n) else { throw APIError.badRequest("invalid_parameter", "limit must be 1...\(max)") }
            page.limit = n
        }
        if let c = query["cursor"] {
            guard let cursor = PageCursor(token: c) else {
                throw APIError.badRequest("invalid_cursor", "cursor is not one this server gave: use the X-Next-Cursor of the previous page")
            }
            page.after = cursor
        }
        return page
    }

    /// A text filter: one line of at most 200 characters, no control characters.
    func text(_ name: String) throws -> String? {
        guard let v = query[name], !v.isEmpty else { return nil }
        guard v.count <= 200, !v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError.badRequest("invalid_parameter", "\(name) must be one line of at most 200 characters, without control characters")
        }
        return v
    }

    /// A time filter: ISO 8601 / RFC 3339, with or without fractional seconds.
    func time(_ name: String) throws -> Date? {
        guard let v = query[name], !v.isEmpty else { return nil }
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions.insert(.withFractionalSeconds)
        guard let d = plain.date(from: v) ?? fractional.date(from: v) else {
            throw APIError.badRequest("invalid_parameter", "\(name) must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z")
        }
        return d
    }

    /// A whole number in `range`; nil when absent.
    func integer(_ name: String, _ range: ClosedRange<Int>, unit: String) throws -> Int? {
        guard let v = query[name] else { return nil }
        guard let n = Int(v), range.contains(n) else {
            throw APIError.badRequest("invalid_parameter", "\(name) must be \(range.lowerBound)...\(range.upperBound) \(unit)")
        }
        return n
    }

    /// A UTC day, `2026-01-31` (midnight UTC).
    func day(_ name: String) throws -> Date? {
        guard let v = query[name], !v.isEmpty else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        guard v.utf8.count == 10, let d = f.date(from: v) else {
            throw APIError.badRequest("invalid_parameter", "\(name) must be a day, e.g. 2026-01-31")
        }
        return d
    }

    /// A filter that takes one of `words`.
    func word(_ name: String, _ words: [String]) throws -> String? {
        guard let v = query[name], !v.isEmpty else { return nil }
        guard words.contains(v) else { throw APIError.badRequest("invalid_parameter", "\(name) must be one of \(words.joined(separator: ", "))") }
        return v
    }

    /// A filter that takes one of a set of words.
    func choice<T: RawRepresentable>(_ name: String, _: T.Type) throws -> T? where T.RawValue == String {
        guard let v = query[name], !v.isEmpty else { return nil }
        guard let value = T(rawValue: v) else { throw APIError.badRequest("invalid_parameter", "unknown \(name) \(v)") }
        return value
    }
}

extension Reply {
    /// A page as a JSON array; when more follow, `X-Next-Cursor` carries the cursor and `Link` the
    /// URL of the next page (RFC 8288, `rel="next"`).
    static func page<T: Encodable>(_ page: Page<T>, _ req: Request) throws -> Response {
        linked(try json(page.items), page.next, req)
    }

    static func page<T: JSONWritable>(_ page: Page<T>, _ req: Request) -> Response {
        linked(json(page.items), page.next, req)
    }

    /// A query as a URI allows it (RFC 3986): anything else, percent-encoded.
    static func linkSafe(_ query: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(query.utf8)
        for (i, b) in bytes.enumerated() {
            // A "%" stays only as the start of an escape.
            let escape = b != UInt8(ascii: "%") || (i + 2 < bytes.count && bytes[i + 1].isHexDigit && bytes[i + 2].isHexDigit)
            if queryBytes.contains(b) && escape { out.append(b); continue }
            out.append(contentsOf: "%\([b].hexString.uppercased())".utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let queryBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%".utf8)

    private static func linked(_ res: Response, _ next: PageCursor?, _ req: Request) -> Response {
        var res = res
        if let next {
            let token = next.token
            res.headers[.nextCursor] = token
            // The request's own query, as it was sent, but for its cursor (a token is URL-safe).
            var parts = (req.uri.query ?? "").split(separator: "&").filter { !$0.isEmpty && !$0.hasPrefix("cursor=") && $0 != "cursor" }
            parts.append("cursor=" + token[...])
            // One slash between segments: `//api/…` would name another host.
            let path = "/" + req.uri.path.split(separator: "/").joined(separator: "/")
            res.headers[.link] = "<\(Self.linkSafe(path))?\(Self.linkSafe(parts.joined(separator: "&")))>; rel=\"next\""
        }
        return res
    }
}

extension HTTPField.Name {
    static let link = HTTPField.Name("Link")!
    static let nextCursor = HTTPField.Name("X-Next-Cursor")!
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
