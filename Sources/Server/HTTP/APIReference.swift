import Foundation

/// The route part of `docs/api.md`, made from the route table so it cannot drift from the server
/// (`DocsTests` compares the committed file with this; `CUSTODY_WRITE_DOCS=1` rewrites it).
enum APIReference {
    static let begin = "<!-- generated from the route table: begin -->"
    static let end = "<!-- generated from the route table: end -->"

    static func markdown(_ entries: [RouteTable.Entry], prefix: String) -> String {
        var sections: [String: [RouteTable.Entry]] = [:]
        var order: [String] = []
        for e in entries {
            let name = section(e.path, prefix: prefix)
            if sections[name] == nil { order.append(name) }
            sections[name, default: []].append(e)
        }
        var out = [begin, ""]
        for name in order {
            out += ["### \(name)", "", "| method | path | what it does | body | sign-in |", "|---|---|---|---|---|"]
            for e in sections[name] ?? [] {
                let path = e.path.split(separator: "/", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
                let body = e.bodyFields.map { e.requiredFields.contains($0) ? "`\($0)`" : "`\($0)`?" }.joined(separator: ", ")
                out.append("| \(e.method.rawValue) | `\(path)` | \(cell(e.summary)) | \(body) | \(e.authenticated ? "token" : "none") |")
            }
            out.append("")
        }
        out.append(end)
        return out.joined(separator: "\n")
    }

    /// Routes group by the first segment under the API prefix (`/resources/...` → `resources`).
    static func section(_ path: String, prefix: String) -> String {
        let rest = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
        return rest.split(separator: "/").first.map(String.init) ?? "/"
    }

    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
}
