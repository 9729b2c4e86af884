import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// The contract in `docs/` matches the server: the API reference's routes are the route table's,
/// and the configuration reference names every key with its default. `CUSTODY_WRITE_DOCS=1`
/// rewrites the generated part of `docs/api.md` instead of failing.
@Suite struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func theAPIReferenceListsEveryRouteOfTheRouteTable() async throws {
        let h = try await Harness.make()
        let (_, table) = CustodyApp.router(h.custody)
        let generated = APIReference.markdown(table.entries, prefix: CustodyApp.apiPrefix)
        let text = try Self.read("docs/api.md")
        let begin = try #require(text.range(of: APIReference.begin), "docs/api.md has the begin marker")
        let end = try #require(text.range(of: APIReference.end), "docs/api.md has the end marker")
        let committed = String(text[begin.lowerBound..<end.upperBound])
        if committed != generated && ProcessInfo.processInfo.environment["CUSTODY_WRITE_DOCS"] == "1" {
            let fresh = String(text[..<begin.lowerBound]) + generated + String(text[end.upperBound...])
            try fresh.write(to: Self.root.appendingPathComponent("docs/api.md"), atomically: true, encoding: .utf8)
            return
        }
        #expect(committed == generated, "docs/api.md's routes differ from the route table: run the tests with CUSTODY_WRITE_DOCS=1")
        #expect(table.entries.count > 80 && generated.contains("| POST | `/api/v1/auth/login` |"))
    }

    /// Rows of the configuration table: each key (first column, a cell may name several) with its
    /// default (third column, in the same order).
    static func configRows() throws -> [String: String] {
        var out: [String: String] = [:]
        for line in try read("docs/configuration.md").split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let keys = cells[1].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            let defaults = cells[3].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            for (i, k) in keys.enumerated() { out[k] = defaults.count == keys.count ? defaults[i] : cells[3] }
        }
        return out
    }

    @Test func theConfigurationReferenceNamesEveryKeyWithItsDefault() throws {
        let rows = try Self.configRows()
        #expect(Set(rows.keys) == Set(PartialConfiguration.keys),
            "missing: \(Set(PartialConfiguration.keys).subtracting(rows.keys).sorted()), unknown: \(Set(rows.keys).subtracting(PartialConfiguration.keys).sorted())")
        let defaults = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(ServerConfiguration())) as? [String: Any])
        for key in PartialConfiguration.keys {
            guard let value = defaults[key] else { continue }  // nil defaults are computed (e.g. `DATA/master.key`)
            let shown: String
            switch value {
            case let n as NSNumber: shown = n.doubleValue == n.doubleValue.rounded() ? String(Int(n.doubleValue)) : "\(n)"
            default: shown = "\(value)"
            }
            #expect(rows[key] == shown, "\(key): docs say \(rows[key] ?? "nothing"), the server's default is \(shown)")
        }
    }

    @Test func everyDocTheReadmeLinksExists() throws {
        let readme = try Self.read("README.md")
        for name in ["docs/api.md", "docs/configuration.md", "docs/design.md", "docs/architecture.md", "docs/postgres.md"] {
            #expect(readme.contains("(\(name))"), "README links \(name)")
            #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(name).path), "\(name) exists")
        }
    }
}
