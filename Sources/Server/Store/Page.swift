import Foundation

/// Where a page starts: just after the row with this sort key and id. Clients see it as an opaque
/// string (`token`); a list sorted by name uses the name, one sorted by time the time's seconds.
struct PageCursor: Codable, Sendable, Equatable {
    var key: String
    var id: String

    /// Base64url, unpadded, of `{"id":…,"key":…}` (written by hand: every page makes one).
    var token: String {
        var w = JSONWriter()
        w.object { w in
            w.field("id", id)
            w.field("key", key)
        }
        var out: [UInt8] = []
        for b in Data(w.bytes).base64EncodedString().utf8 {
            switch b {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): break
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil for anything that is not a token this server made.
    init?(token: String) {
        guard token.count <= 2048 else { return nil }
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        guard let data = Data(base64Encoded: b64), let c = try? JSONDecoder().decode(PageCursor.self, from: data) else { return nil }
        // No control character: PostgreSQL refuses a NUL in text, and no stored name holds one.
        guard !(c.key + c.id).unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        self = c
    }

    init(key: String, id: String) {
        self.key = key
        self.id = id
    }
}

/// What a list asks for: at most `limit` rows after `after` (from the start when nil).
struct PageRequest: Sendable, Equatable {
    static let defaultLimit = 100
    static let maxLimit = 1000
    var limit: Int = PageRequest.defaultLimit
    var after: PageCursor? = nil

    /// Everything, for callers inside the server that need the whole list.
    static let all = PageRequest(limit: Int.max - 1, after: nil)

    /// How many rows a store fetches: one more than the page, to know whether another follows.
    var fetchLimit: Int { limit + 1 }
}

/// One page of a list and the cursor of the next, nil on the last page.
struct Page<Item: Sendable>: Sendable {
    var items: [Item]
    var next: PageCursor?

    /// From rows fetched with `fetchLimit`, in the list's order.
    init(fetched: [Item], _ req: PageRequest, cursor: (Item) -> PageCursor) {
        if fetched.count > req.limit {
            items = Array(fetched.prefix(req.limit))
            next = items.last.map(cursor)
        } else {
            items = fetched
            next = nil
        }
    }

    init(items: [Item], next: PageCursor?) {
        self.items = items
        self.next = next
    }

    func map<T>(_ f: (Item) throws -> T) rethrows -> Page<T> { Page<T>(items: try items.map(f), next: next) }

    /// A page of a list held in memory, ordered by (key, id) ascending: lists whose rows are few
    /// or already read whole (a user's groups, the agents).
    static func slice(_ all: [Item], _ req: PageRequest, key: (Item) -> String, id: (Item) -> String) -> Page<Item> {
        let sorted = all.map { (k: key($0), i: id($0), item: $0) }.sorted { ($0.k, $0.i) < ($1.k, $1.i) }
        let rest = req.after.map { c in sorted.filter { ($0.k, $0.i) > (c.key, c.id) } } ?? sorted
        let page = rest.prefix(req.limit)
        let next = rest.count > req.limit ? page.last.map { PageCursor(key: $0.k, id: $0.i) } : nil
        return Page(items: page.map(\.item), next: next)
    }
}

/// A name filter: rows whose name starts with `prefix`, whatever its case.
enum NamePrefix {
    /// The LIKE pattern for `prefix`, with `%`, `_` and `\` taken literally (ESCAPE '\').
    static func like(_ prefix: String) -> String {
        prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    static func matches(_ name: String, _ prefix: String?) -> Bool {
        guard let prefix, !prefix.isEmpty else { return true }
        return name.lowercased().hasPrefix(prefix.lowercased())
    }
}
