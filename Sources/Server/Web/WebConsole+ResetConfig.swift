import Foundation
import HTTPTypes
import Hummingbird

/// A resource's reset configuration (how Custody reaches the target) as a form over
/// `PUT /resources/{rid}/reset-config`; options and prompts are `key=value` lines.
extension WebConsole {
    static let resetChoices: [String: [String]] = ["mode": ["agentless", "agent", "none"], "protocol": ["ssh", "telnet"],
        "elevation": ["none", "sudo", "su"], "authMethod": ["password", "publicKey"]]

    func resetConfig(_ web: RouterGroup<AppContext>) {
        web.get("/resources/:rid/reset-config") { request, ctx in
            try await page(request) { v in try await resetConfigPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/resources/:rid/reset-config") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), rid = try ctx.parameters.require("rid")
                return try await attempt("config", fields: ["port", "hostKey", "options", "prompts"], redirect: "/resources/\(rid)/reset-config?notice=saved",
                    back: { e, s in try await resetConfigPage(v, ctx, errors: e, values: f, status: s) }) {
                    let body = try Request.decodeStrict(ResetConfig.self, from: try JSONSerialization.data(withJSONObject: try Self.resetConfigBody(f)))
                    _ = try await custody.resetConfigs.save(body, for: rid, by: v.principal, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
    }

    static let resetFormKeys: Set<String> = ["mode", "protocol", "port", "loginAccount", "authMethod", "elevation", "rootAccount",
        "enableAccount", "hostKey", "copyToStartup", "accountNameRequired", "syncAccountAddition", "syncAccountDeletion", "options", "prompts"]

    /// The form as the API's ResetConfig; blank fields are left out.
    static func resetConfigBody(_ f: [String: String]) throws -> [String: Any] {
        var body: [String: Any] = [:]
        for key in ["mode", "protocol", "loginAccount", "authMethod", "elevation", "rootAccount", "enableAccount", "hostKey"] {
            if let x = f[key]?.trimmingCharacters(in: .whitespaces), !x.isEmpty { body[key] = x }
        }
        if let p = f["port"], !p.isEmpty {
            guard let n = Int(p) else { throw APIError.badRequest("invalid_field", "field 'port' must be 1...65535") }
            body["port"] = n
        }
        for key in ["copyToStartup", "accountNameRequired", "syncAccountAddition", "syncAccountDeletion"] { body[key] = f[key] == "on" }
        for key in ["options", "prompts"] {
            let pairs = try lines(f[key] ?? "", field: key)
            if !pairs.isEmpty { body[key] = pairs }
        }
        return body
    }

    /// `key=value` lines (blank lines skipped).
    static func lines(_ text: String, field: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let kv = line.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw APIError.badRequest("invalid_field", "field '\(field)': each line is key=value") }
            out[kv[0].trimmingCharacters(in: .whitespaces)] = String(kv[1])
        }
        return out
    }

    func resetConfigPage(_ v: Visitor, _ ctx: AppContext, errors: [String: String] = [:], values: [String: String]? = nil,
        notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let rid = try ctx.parameters.require("rid")
        let resource = try await custody.resources.resource(rid, by: v.principal).resource
        let accounts = try await custody.accounts.accounts(of: rid, by: v.principal).map(\.loginName)
        var current: [String: Any] = ["mode": "none"]
        do {
            let config = try await custody.resetConfigs.config(of: rid, by: v.principal)
            current = try JSONSerialization.jsonObject(with: try JSONEncoder.api.encode(config)) as? [String: Any] ?? current
        } catch let e as DomainError where e.kind == .notFound {}
        var form = Self.strings(current)
        for key in ["options", "prompts"] {
            form[key] = (current[key] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        }
        if let values { form = values.filter { Self.resetFormKeys.contains($0.key) } }
        var choices: [String: Any] = [:]
        for (key, list) in Self.resetChoices {
            choices[key] = list.map { ["name": $0, "selected": $0 == (form[key] ?? list[0])] as [String: Any] }
        }
        let checks = ["copyToStartup", "accountNameRequired", "syncAccountAddition", "syncAccountDeletion"].filter {
            form[$0] == "yes" || form[$0] == "on" || ($0 == "accountNameRequired" && values == nil && form[$0] == nil)
        }
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "resource": ["id": resource.id, "name": resource.name, "type": resource.type, "dnsName": resource.dnsName], "form": form, "choices": choices,
            "checked": Dictionary(uniqueKeysWithValues: checks.map { ($0, true) }), "accounts": accounts, "errors": errors]
        if let notice { page["notice"] = notice }
        return try render("reset-config", page, status: status)
    }
}
