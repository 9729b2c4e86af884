import Foundation

/// Builds the OpenAPI 3.1 document from the route table.
enum OpenAPI {
    static func document(_ entries: [RouteTable.Entry]) -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for e in entries {
            let path = e.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .joined(separator: "/")
            let fullPath = "/" + path
            var op: [String: Any] = [
                "summary": e.summary,
                "responses": ["default": ["description": "JSON; errors are {\"error\": {\"code\", \"message\"}}"]],
            ]
            let params = path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                ["name": String($0.dropFirst().dropLast()), "in": "path", "required": true, "schema": ["type": "string"]] as [String: Any]
            }
            if !params.isEmpty { op["parameters"] = params }
            if !e.authenticated { op["security"] = [[String: Any]]() }
            if !e.bodyFields.isEmpty {
                op["requestBody"] = ["required": true, "content": ["application/json": ["schema": [
                    "type": "object", "additionalProperties": false,
                    "properties": Dictionary(uniqueKeysWithValues: e.bodyFields.map { ($0, [String: Any]()) }),
                    "required": e.requiredFields,
                ]]]]
            }
            paths[fullPath, default: [:]][e.method.rawValue.lowercased()] = op
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Custody", "version": "1"],
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]],
            "security": [["bearer": [String]()]],
            "paths": paths,
        ]
    }

    static func json(_ entries: [RouteTable.Entry]) -> Data {
        (try? JSONSerialization.data(withJSONObject: document(entries), options: [.sortedKeys])) ?? Data()
    }
}
