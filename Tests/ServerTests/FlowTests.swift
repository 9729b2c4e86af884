import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

@Suite struct FlowTests {
    @Test func adminCreatesResourceAccountAndReadsPasswordBack() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("web01", token: admin)
            let aid = try await api.account(rid, "root", password: "s3cret-Pa55 word!", token: admin)
            let pw = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password?reason=maintenance&ticketId=T-1", token: admin)
            #expect(pw.status == .ok)
            #expect(pw.object["password"] as? String == "s3cret-Pa55 word!")
            let account = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)", token: admin)
            #expect(account.object["syncStatus"] as? String == "neverChecked")
            #expect(!account.text.contains("s3cret"))
            let audit = try await api.call(.get, "/audit?accountId=\(aid)", token: admin)
            let retrieval = try #require(audit.array.first { $0["operation"] as? String == "retrieve_password" })
            #expect(retrieval["reason"] as? String == "maintenance")
            #expect(retrieval["ticketId"] as? String == "T-1")
            #expect(retrieval["user"] as? String == "admin")
        }
    }

    @Test func healthAndMetricsAndOpenAPIArePublic() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            #expect(try await api.call(.get, "/healthz").status == .ok)
            #expect(try await api.call(.get, "/metrics").status == .ok)
            let doc = try await api.call(.get, "/openapi.json")
            #expect(doc.status == .ok)
            #expect((doc.object["paths"] as? [String: Any])?["/api/v1/resources"] != nil)
        }
    }

    @Test func everyRouteIsInTheOpenAPIDocument() async throws {
        let h = try await Harness.make()
        let (router, table) = CustodyApp.router(h.custody)
        let doc = OpenAPI.document(table.entries)
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        for route in router.routes where route.path.description.hasPrefix("/api/") {
            let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .joined(separator: "/")
            let methods = paths["/" + path]
            #expect(methods?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(route.path) is missing from openapi.json")
        }
        #expect(router.routes.count >= table.entries.count)
    }
}
