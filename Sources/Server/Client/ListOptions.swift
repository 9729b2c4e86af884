import ArgumentParser
import Foundation

/// Paging for list commands: every page by default, or at most `--limit` rows from `--cursor`.
struct ListOptions: ParsableArguments {
    @Option(help: "At most this many rows (default: all, read a page at a time).") var limit: Int?
    @Option(help: "Start after this cursor (printed on stderr when --limit stops before the end).") var cursor: String?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
    }

    /// The rows of `path` (which may carry its own filters), following `X-Next-Cursor`.
    func rows(_ client: APIClient, _ path: String, pageSize: Int = 1000) async throws -> [Any] {
        var out: [Any] = []
        var next = cursor
        var seen = Set<String>()
        repeat {
            let size = min(pageSize, (limit ?? Int.max) - out.count)
            var page = path + (path.contains("?") ? "&" : "?") + "limit=\(size)"
            if let c = next { page += "&cursor=" + Query.escape(c) }
            let (data, headers) = try await client.exchange(.GET, page)
            let rows = (try JSONSerialization.jsonObject(with: data) as? [Any]) ?? []
            out += rows
            next = headers.first(name: "X-Next-Cursor")
            // A server that repeats a cursor or sends an empty page with one would loop forever.
            if let n = next, rows.isEmpty || !seen.insert(n).inserted {
                throw ClientError(description: "the server's list did not advance (cursor \(n)); stopping")
            }
        } while next != nil && out.count < (limit ?? Int.max)
        if let next {
            FileHandle.standardError.write(Data("more follow: add --cursor \(next)\n".utf8))
        }
        return out
    }
}

/// Query strings built from options.
enum Query {
    static func escape(_ v: String) -> String {
        v.addingPercentEncoding(withAllowedCharacters: CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))) ?? ""
    }

    /// `path?k=v&…` of the pairs that have a value.
    static func path(_ path: String, _ pairs: [(String, String?)]) -> String {
        let q = pairs.compactMap { k, v in v.map { "\(k)=" + escape($0) } }
        return q.isEmpty ? path : path + (path.contains("?") ? "&" : "?") + q.joined(separator: "&")
    }
}
