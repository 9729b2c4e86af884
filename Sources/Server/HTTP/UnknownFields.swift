import Foundation

/// Refuses a body's unknown fields at any depth, as its JSON Schema (the one the OpenAPI document
/// publishes, derived from the same type) names them: a typo in a nested object is an error, not
/// a setting silently left out. Objects whose schema lists no properties are not checked.
enum UnknownFields {
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var schemas: [ObjectIdentifier: [String: Any]] = [:]
    }
    private static let cache = Cache()

    static func check<T: Decodable>(_ json: Any, as type: T.Type) throws {
        let schema = cache.lock.withLock { cache.schemas[ObjectIdentifier(type)] } ?? {
            let s = JSONSchema.of(type)
            cache.lock.withLock { cache.schemas[ObjectIdentifier(type)] = s }
            return s
        }()
        if let bad = firstUnknown(json, schema, path: []) { throw APIError.badRequest("unknown_field", "unknown field '\(bad)'") }
    }

    /// The path of the first field `schema` does not know, by key order.
    static func firstUnknown(_ value: Any, _ schema: [String: Any], path: [String]) -> String? {
        if let object = value as? [String: Any] {
            if let properties = schema["properties"] as? [String: Any] {
                for key in object.keys.sorted() {
                    guard let inner = properties[key] as? [String: Any] else {
                        if schema["additionalProperties"] as? Bool == false { return name(path + [key]) }
                        continue
                    }
                    if let bad = firstUnknown(object[key]!, inner, path: path + [key]) { return bad }
                }
            } else if let values = schema["additionalProperties"] as? [String: Any] {
                for key in object.keys.sorted() {
                    if let bad = firstUnknown(object[key]!, values, path: path + [key]) { return bad }
                }
            }
        } else if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, element) in array.enumerated() {
                if let bad = firstUnknown(element, items, path: path + ["[\(i)]"]) { return bad }
            }
        }
        return nil
    }

    private static func name(_ path: [String]) -> String {
        path.reduce("") { $0.isEmpty ? $1 : $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
    }
}
