import Foundation

/// Builds the OpenAPI 3.1 document from the route table: paths, query parameters, request bodies
/// and answers typed from the same Codable types the handlers decode and encode (`JSONSchema`).
enum OpenAPI {
    static var errorSchema: [String: Any] {
        ["type": "object", "required": ["error"], "additionalProperties": false,
            "properties": ["error": ["type": "object", "required": ["code", "message"], "additionalProperties": false,
                "properties": ["code": ["type": "string"], "message": ["type": "string"]]]]]
    }

    static func document(_ entries: [RouteTable.Entry]) -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for e in entries {
            let path = e.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .joined(separator: "/")
            var op: [String: Any] = ["summary": e.summary, "operationId": operationID(e), "responses": responses(e)]
            var params = path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                // An id or a name: the server refuses control characters in a path (400 invalid_path).
                ["name": String($0.dropFirst().dropLast()), "in": "path", "required": true,
                    "schema": ["type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f/]*$"]] as [String: Any]
            }
            params += e.query.map { q in
                var p: [String: Any] = ["name": q.name, "in": "query", "required": false, "schema": q.schema]
                if !q.about.isEmpty { p["description"] = q.about }
                return p
            }
            if !params.isEmpty { op["parameters"] = params }
            if !e.authenticated { op["security"] = [[String: Any]]() }
            if !e.bodyFields.isEmpty {
                op["requestBody"] = ["required": true, "content": ["application/json": ["schema": bodySchema(e)]]]
            } else if let media = e.rawBody {
                op["requestBody"] = ["required": true, "content": [media: ["schema": ["type": "string"]]]]
            }
            paths["/" + path, default: [:]][e.method.rawValue.lowercased()] = op
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Custody", "version": "1"],
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]], "schemas": ["Error": errorSchema]],
            "security": [["bearer": [String]()]],
            "paths": paths,
        ]
    }

    /// The body's fields typed from its Codable type; only the fields it declares, with its required ones.
    static func bodySchema(_ e: RouteTable.Entry) -> [String: Any] {
        let derived = e.body.map { JSONSchema.of($0.type) } ?? [:]
        let known = derived["properties"] as? [String: Any] ?? [:]
        let limits = e.body.map { limitsOf($0.type) } ?? [:]
        var properties: [String: Any] = [:]
        for f in e.bodyFields { properties[f] = known[f] as? [String: Any] ?? [:] }
        // A nested field's limits are named by its path ("smtp.port").
        for (field, keywords) in limits {
            let path = field.split(separator: ".").map(String.init)
            guard let top = path.first, var p = properties[top] as? [String: Any] else { continue }
            p = constrain(p, path.dropFirst(), keywords)
            properties[top] = p
        }
        return ["type": "object", "additionalProperties": false, "required": e.requiredFields, "properties": properties]
    }

    /// `schema` with `keywords` added at `path` below it. A list's string limits are its items'
    /// (each resource type named); minItems/maxItems stay on the list.
    static func constrain(_ schema: [String: Any], _ path: ArraySlice<String>, _ keywords: [String: Any]) -> [String: Any] {
        var p = schema
        if let next = path.first {
            var inner = p["properties"] as? [String: Any] ?? [:]
            guard let child = inner[next] as? [String: Any] else { return p }
            inner[next] = constrain(child, path.dropFirst(), keywords)
            p["properties"] = inner
            return p
        }
        let isList = p["type"] as? String == "array" || (p["type"] as? [String])?.contains("array") == true
        for (k, v) in keywords where k != "additionalProperties" || p["additionalProperties"] != nil {
            if isList, ["minLength", "maxLength", "pattern", "anyOf", "format", "enum"].contains(k) {
                var items = p["items"] as? [String: Any] ?? [:]
                items[k] = v
                p["items"] = items
            } else {
                p[k] = v
            }
        }
        return p
    }

    /// The limits `validate()` enforces, found by running it on a sample under `Validate.recorder`.
    static func limitsOf<T: APIBody>(_ type: T.Type) -> [String: [String: Any]] {
        guard let sample = try? SchemaDecoder(depth: 0).sample(type) else { return [:] }
        return Validate.limits(of: sample)
    }

    static func responses(_ e: RouteTable.Entry) -> [String: Any] {
        let error: [String: Any] = ["description": "An error: its status, a code and a message",
            "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        var out: [String: Any] = ["default": error]
        switch e.response {
        case .unspecified:
            out["2XX"] = ["description": "JSON", "content": ["application/json": ["schema": [String: Any]()]]]
        case .empty:
            out["204"] = ["description": "Done; no body"]
        case .object(let t):
            out["2XX"] = ["description": "JSON", "content": ["application/json": ["schema": JSONSchema.of(t)]]]
        case .list(let t):
            out["200"] = ["description": "A page of the list",
                "headers": ["X-Next-Cursor": ["description": "Present when more rows follow: pass it as cursor", "schema": ["type": "string"]],
                    "Link": ["description": "The next page's URL, rel=\"next\"", "schema": ["type": "string"]]],
                "content": ["application/json": ["schema": ["type": "array", "items": JSONSchema.of(t)]]]]
        case .file(let media, let also):
            let binary: [String: Any] = ["schema": ["type": "string", "contentEncoding": "binary"]]
            out["200"] = ["description": "A file", "content": Dictionary(uniqueKeysWithValues: ([media] + also).map { ($0, binary) })]
        case .report(let t):
            out["200"] = ["description": "The report as JSON, or with format=csv its rows as CSV",
                "content": ["application/json": ["schema": JSONSchema.of(t)], "text/csv": ["schema": ["type": "string"]]]]
        }
        return out
    }

    /// A stable id: the method and the path's words, e.g. `getResourcesRidAccounts`.
    static func operationID(_ e: RouteTable.Entry) -> String {
        let words = e.path.split(separator: "/").dropFirst(2).flatMap { $0.split(whereSeparator: { "-:_.".contains($0) }) }
        return e.method.rawValue.lowercased() + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func json(_ entries: [RouteTable.Entry]) -> Data {
        (try? JSONSerialization.data(withJSONObject: document(entries), options: [.sortedKeys])) ?? Data()
    }
}

extension OpenAPI {
    /// The document, made once on first use (its schemas are derived by decoding every body type).
    final class Cached: @unchecked Sendable {
        private let table: RouteTable
        private let lock = NSLock()
        private var made: Data?

        init(_ table: RouteTable) { self.table = table }

        var data: Data {
            lock.withLock {
                if let made { return made }
                let d = OpenAPI.json(table.entries)
                made = d
                return d
            }
        }
    }
}

/// Any JSON value (for answers that are documents themselves).
enum JSONValue: Codable {
    case value

    init(from decoder: any Decoder) throws { self = .value }
    func encode(to encoder: any Encoder) throws {}
}
