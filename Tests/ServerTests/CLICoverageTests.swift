import ArgumentParser
import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// The CLI is equal to the API: every route of the route table is called by some `custody` verb
/// (each verb names the routes it calls, `CallsRoutes`), every route a verb names exists, and every
/// verb explains itself in `--help`.
@Suite struct CLICoverageTests {
    /// Routes with no verb, and why.
    static let exceptions: [String: String] = [:]

    static func commands(_ root: any ParsableCommand.Type = CustodyCommand.self) -> [any ParsableCommand.Type] {
        [root] + root.configuration.subcommands.flatMap { commands($0) }
    }

    @Test func everyRouteIsReachableFromTheCLI() async throws {
        let h = try await Harness.make()
        let (_, table) = CustodyApp.router(h.custody)
        let routes = Set(table.entries.map { "\($0.method.rawValue) " + $0.path.dropFirst(CustodyApp.apiPrefix.count) })
        #expect(routes.contains("POST /auth/login"), "the table's paths carry \(CustodyApp.apiPrefix)")
        var called: Set<String> = []
        for c in Self.commands() {
            for r in (c as? any CallsRoutes.Type)?.routes ?? [] {
                let known = routes.contains(r)
                #expect(known, "\(c) names \(r), which the route table does not have")
                called.insert(r)
            }
        }
        let missing = routes.subtracting(called).subtracting(Self.exceptions.keys).sorted()
        #expect(missing.isEmpty, "routes no CLI verb calls: \(missing.joined(separator: ", "))")
    }

    @Test func everyVerbHasAnAbstract() {
        let bare = Self.commands().filter { $0.configuration.subcommands.isEmpty && $0.configuration.abstract.isEmpty }.map { "\($0)" }
        #expect(bare.isEmpty, "verbs without an abstract for --help: \(bare.joined(separator: ", "))")
    }
}
