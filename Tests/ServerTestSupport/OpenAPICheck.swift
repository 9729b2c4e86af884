import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Server

/// Checks every API answer the router tests receive against the OpenAPI document: a 2xx answer of
/// a route that names its response must match that schema (JSON Schema: types, required fields,
/// no field the schema does not name, enums, formats, ranges).
enum OpenAPICheck {
    private static let doc = Mutex<[String: Any]?>(nil)

    static func document(_ custody: Custody) -> [String: Any] {
        doc.withLock { d in
            if let d { return d }
            let made = OpenAPI.document(CustodyApp.router(custody).1.entries)
            d = made
            return made
        }
    }

    /// The problems of `data` as the answer of `method path` with `status`; empty when it conforms.
    static func problems(_ custody: Custody, _ method: HTTPRequest.Method, _ path: String, _ status: HTTPResponse.Status, _ data: Data,
        contentType: String? = "application/json") -> [String]
    {
        // JSON answers are checked; a CSV or a bundle is a file the schema only names.
        guard (200..<300).contains(status.code), path.hasPrefix("/api/v1/"), data.isEmpty || contentType?.hasPrefix("application/json") == true
        else { return [] }
        let doc = document(custody)
        guard let paths = doc["paths"] as? [String: [String: Any]],
            let (template, ops) = match(path.split(separator: "?").first.map(String.init) ?? path, paths),
            let op = ops[method.rawValue.lowercased()] as? [String: Any], let responses = op["responses"] as? [String: Any]
        else { return [] }
        let key = responses["\(status.code)"] != nil ? "\(status.code)" : "2XX"
        guard let response = responses[key] as? [String: Any] else {
            return ["\(method) \(template): \(status.code) is not a documented answer"]
        }
        guard let content = response["content"] as? [String: Any], let json = content["application/json"] as? [String: Any],
            let schema = json["schema"] as? [String: Any], !schema.isEmpty
        else { return data.isEmpty || response["content"] != nil ? [] : ["\(method) \(template): a body where none is documented"] }
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return ["\(method) \(template): not JSON"]
        }
        return validate(value, schema, "\(method) \(template) $", doc)
    }

    static func match(_ path: String, _ paths: [String: [String: Any]]) -> (String, [String: Any])? {
        let parts = path.split(separator: "/")
        var best: (String, [String: Any], Int)?
        for (template, ops) in paths {
            let t = template.split(separator: "/")
            guard t.count == parts.count else { continue }
            var literal = 0
            var ok = true
            for (a, b) in zip(t, parts) {
                if a.hasPrefix("{") { continue }
                if a == b { literal += 1 } else { ok = false; break }
            }
            if ok, literal > (best?.2 ?? -1) { best = (template, ops, literal) }
        }
        return best.map { ($0.0, $0.1) }
    }

    static func validate(_ v: Any, _ schema: [String: Any], _ at: String, _ doc: [String: Any]) -> [String] {
        if let ref = schema["$ref"] as? String {
            let name = String(ref.split(separator: "/").last ?? "")
            let target = ((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any] ?? [:]
            return validate(v, target, at, doc)
        }
        var out: [String] = []
        let types: [String] = (schema["type"] as? [String]) ?? ((schema["type"] as? String).map { [$0] } ?? [])
        if !types.isEmpty, !types.contains(where: { isOf(v, $0) }) { return ["\(at): \(v) is not \(types.joined(separator: "|"))"] }
        if let e = schema["enum"] as? [Any], !e.contains(where: { "\($0)" == "\(v)" || ($0 is NSNull && v is NSNull) }) {
            out.append("\(at): \(v) is not one of \(e)")
        }
        if schema["format"] as? String == "date-time", let s = v as? String, ISO8601DateFormatter().date(from: s) == nil,
            (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(s)) == nil
        {
            out.append("\(at): \(s) is not a date-time")
        }
        if let n = v as? NSNumber, !isBool(v) {
            if let min = schema["minimum"] as? Int, n.intValue < min { out.append("\(at): \(n) < \(min)") }
            if let max = schema["maximum"] as? Int, n.intValue > max { out.append("\(at): \(n) > \(max)") }
        }
        if let o = v as? [String: Any] {
            let props = schema["properties"] as? [String: Any] ?? [:]
            for r in schema["required"] as? [String] ?? [] where o[r] == nil { out.append("\(at).\(r): missing") }
            for (k, value) in o {
                if let p = props[k] as? [String: Any] {
                    out += validate(value, p, "\(at).\(k)", doc)
                } else if let extra = schema["additionalProperties"] {
                    if let b = extra as? Bool, !b, !props.isEmpty || schema["properties"] != nil { out.append("\(at).\(k): not in the schema") }
                    if let s = extra as? [String: Any] { out += validate(value, s, "\(at).\(k)", doc) }
                }
            }
        }
        if let a = v as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, e) in a.enumerated() { out += validate(e, items, "\(at)[\(i)]", doc) }
        }
        return out
    }

    static func isBool(_ v: Any) -> Bool {
        if type(of: v) == Bool.self { return true }
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c" || String(cString: n.objCType) == "B"
    }

    static func isOf(_ v: Any, _ type: String) -> Bool {
        switch type {
        case "null": return v is NSNull
        case "object": return v is [String: Any]
        case "array": return v is [Any]
        case "string": return v is String
        case "boolean": return isBool(v)
        case "integer": return !isBool(v) && (v as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } ?? false
        case "number": return !isBool(v) && v is NSNumber
        default: return true
        }
    }
}
