import Foundation
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The OpenAPI document: valid OpenAPI 3.1 (checked by openapi-spec-validator), typed from the
/// handlers' own Codable types and validators, and (through `OpenAPICheck`, in every router
/// test) matched by every answer.
@Suite struct OpenAPITests {
    static func document() async throws -> [String: Any] {
        let h = try await Harness.make()
        return OpenAPI.document(CustodyApp.router(h.custody).1.entries)
    }

    @Test func anOpenAPIValidatorAcceptsTheDocument() async throws {
        let doc = try await Self.document()
        let file = TestTargets.scratch + "/openapi-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let run = Spawn.run(["/usr/bin/env", "python3", "-c", """
            import json, sys
            from openapi_spec_validator import validate
            validate(json.load(open(sys.argv[1])))
            print("valid")
            """, file])
        #expect(run.status == 0 && run.out.contains("valid"), "openapi-spec-validator (make deps installs it): \(run.out)")
    }

    @Test func bodiesAndAnswersAreTypedWithTheServersLimits() async throws {
        let doc = try await Self.document()
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        func op(_ path: String, _ method: String) throws -> [String: Any] { try #require(paths[path]?[method] as? [String: Any], "\(method) \(path)") }
        func body(_ path: String, _ method: String) throws -> [String: Any] {
            let rb = try #require(try op(path, method)["requestBody"] as? [String: Any])
            return try #require(((rb["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
        }
        let create = try body("/api/v1/resources", "post")
        let props = try #require(create["properties"] as? [String: [String: Any]])
        #expect(create["additionalProperties"] as? Bool == false && Set(create["required"] as? [String] ?? []) == ["name", "dnsName", "type"])
        #expect(props["name"]?["type"] as? String == "string" && props["name"]?["maxLength"] as? Int == 200 && props["name"]?["minLength"] as? Int == 1)
        #expect(props["dnsName"]?["maxLength"] as? Int == 253 && props["dnsName"]?["pattern"] != nil)
        #expect(props["description"]?["type"] as? [String] == ["string", "null"] && props["description"]?["maxLength"] as? Int == 4000)
        #expect(props["customFields"]?["maxProperties"] as? Int == 100)
        let password = try body("/api/v1/resources/{rid}/accounts/{aid}/password", "put")
        let resetType = try #require((password["properties"] as? [String: [String: Any]])?["resetType"])
        #expect(resetType["enum"] as? [String] == ["local", "remote"])

        let list = try #require(try op("/api/v1/resources", "get")["responses"] as? [String: Any])
        let ok = try #require(list["200"] as? [String: Any])
        #expect((ok["headers"] as? [String: Any])?["X-Next-Cursor"] != nil)
        let items = try #require(((((ok["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])?["items"])
            as? [String: Any])
        let view = try #require(items["properties"] as? [String: [String: Any]])
        #expect(view["createdAt"]?["format"] as? String == "date-time" && view["customFields"]?["type"] as? String == "object")
        #expect(Set(items["required"] as? [String] ?? []).isSuperset(of: ["id", "name", "dnsName", "type", "owner", "createdAt"]))
        let params = try #require(try op("/api/v1/resources", "get")["parameters"] as? [[String: Any]])
        #expect(params.contains { $0["name"] as? String == "limit" && ($0["schema"] as? [String: Any])?["maximum"] as? Int == 1000 })
        let accounts = try #require(try op("/api/v1/resources/{rid}/accounts", "get")["parameters"] as? [[String: Any]])
        #expect(accounts.contains { ($0["schema"] as? [String: Any])?["enum"] as? [String] == SyncStatus.allCases.map(\.rawValue) })
        let ids = paths.values.flatMap { $0.values.compactMap { ($0 as? [String: Any])?["operationId"] as? String } }
        #expect(Set(ids).count == ids.count, "operation ids are unique")
    }

    /// The checker itself refuses what does not match, so a green run means the answers matched.
    @Test func theAnswerCheckRefusesWhatDoesNotMatch() async throws {
        let h = try await Harness.make()
        let view = #"{"id":"r","name":"n","dnsName":"d","type":"Linux","owner":"o","customFields":{},"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}"#
        #expect(OpenAPICheck.problems(h.custody, .get, "/api/v1/resources/r", .ok, Data(view.utf8)).isEmpty)
        let extra = view.replacingOccurrences(of: #""id":"r""#, with: #""id":"r","secret":"x""#)
        #expect(!OpenAPICheck.problems(h.custody, .get, "/api/v1/resources/r", .ok, Data(extra.utf8)).isEmpty, "a field the schema does not name")
        let wrong = view.replacingOccurrences(of: #""owner":"o""#, with: #""owner":7"#)
        #expect(!OpenAPICheck.problems(h.custody, .get, "/api/v1/resources/r", .ok, Data(wrong.utf8)).isEmpty, "a wrong type")
        let missing = view.replacingOccurrences(of: #""name":"n","#, with: "")
        #expect(!OpenAPICheck.problems(h.custody, .get, "/api/v1/resources/r", .ok, Data(missing.utf8)).isEmpty, "a missing field")
        #expect(!OpenAPICheck.problems(h.custody, .get, "/api/v1/resources", .ok, Data("[\(wrong)]".utf8)).isEmpty, "in a list")
        let badDate = view.replacingOccurrences(of: "2026-01-01T00:00:00Z\",\"updatedAt", with: "yesterday\",\"updatedAt")
        #expect(!OpenAPICheck.problems(h.custody, .get, "/api/v1/resources/r", .ok, Data(badDate.utf8)).isEmpty, "a date")
    }

    /// Every answer is described, and what the fuzzer found in the document stays mended.
    @Test func everyAnswerIsDescribedAndListsConstrainTheirItems() async throws {
        let h = try await Harness.make()
        let (_, table) = CustodyApp.router(h.custody)
        let untyped = table.entries.filter { if case .unspecified = $0.response { return true } else { return false } }.map { "\($0.method) \($0.path)" }
        #expect(untyped.isEmpty, "answers without a schema: \(untyped)")
        let doc = try #require(try JSONSerialization.jsonObject(with: OpenAPI.json(table.entries)) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: [String: [String: Any]]])
        func bodySchema(_ path: String, _ method: String, _ media: String = "application/json") -> [String: Any]? {
            ((paths[path]?[method]?["requestBody"] as? [String: Any])?["content"] as? [String: Any]).flatMap { $0[media] as? [String: Any] }?["schema"]
                as? [String: Any]
        }
        let listener = try #require(bodySchema("/api/v1/listeners", "post")?["properties"] as? [String: [String: Any]])
        let types = try #require(listener["resourceTypes"])
        #expect(types["minItems"] as? Int == 1 && types["maxItems"] as? Int == 100 && types["maxLength"] == nil)
        #expect((types["items"] as? [String: Any])?["maxLength"] as? Int == 100)
        #expect(bodySchema("/api/v1/import/resources", "post", "text/csv") != nil, "the CSV import's body")
        let policy = try #require(bodySchema("/api/v1/policies", "post")?["properties"] as? [String: [String: Any]])
        #expect(policy["minLength"]?["minimum"] as? Int == 1 && policy["maxLength"]?["maximum"] as? Int == 256)
        let csv = ((paths["/api/v1/reports/expiry"]?["get"]?["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"]
            as? [String: Any]
        #expect(csv?["text/csv"] != nil && csv?["application/json"] != nil)
        let name = ((paths["/api/v1/resources"]?["get"]?["parameters"] as? [[String: Any]])?.first { $0["name"] as? String == "name" })?["schema"]
            as? [String: Any]
        #expect(name?["maxLength"] as? Int == 200, "filters are one line of at most 200 characters")
    }
}
