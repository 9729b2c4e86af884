import Foundation
import Shared
import Testing

@testable import ResetPlugins

/// The dialects' `credentials`: which credential each account is (without a device), and the
/// load-time checks that keep the section consistent.
@Suite struct DialectCredentialTests {
    let library = try! DialectLibrary.load()

    func pick(_ dialect: String, _ account: String, fields: [String: String] = [:], options: [String: String] = [:],
        login: String? = "helpdesk", enable: String? = nil, nameRequired: Bool = true) throws(ResetFailure) -> String
    {
        var s = ResetSettings(port: 1)
        s.options = options
        s.accountNameRequired = nameRequired
        let job = ResetJob(operation: .reset, resource: ["IPADDRESS": "127.0.0.1"], account: fields.merging(["LOGINNAME": account]) { $1 },
            currentPassword: Secret("Old-Pass-1"), newPassword: Secret("New-Pass-2"),
            loginAccount: login.map { .init(loginName: $0, password: Secret("Help-Pass-1")) },
            rootAccount: enable.map { .init(loginName: $0, password: Secret("Enable-1")) }, settings: s)
        return try NetworkDevicePlugin(dialect: library.dialect(id: dialect)!).credential(job).name
    }

    @Test func everyBuiltInDialectStatesItsCredentials() {
        for d in library.dialects.values { #expect(d.credentials?.isEmpty == false, "\(d.id)") }
    }

    @Test func proCurveAccountsMapByNameByEnableAccountOrByLevel() throws {
        #expect(try pick("hp-procurve", "operator") == "operator")
        #expect(try pick("hp-procurve", "manager") == "manager")
        #expect(try pick("hp-procurve", "admin", enable: "admin") == "manager")
        #expect(try pick("hp-procurve", "helpdesk", fields: ["level": "operator"]) == "operator")
        #expect(try pick("hp-procurve", "helpdesk", options: ["level": "manager"]) == "manager")
        // The account's field wins over the reset config's option, and agreeing with the name is fine.
        #expect(try pick("hp-procurve", "helpdesk", fields: ["level": "operator"], options: ["level": "manager"]) == "operator")
        #expect(try pick("hp-procurve", "operator", fields: ["level": "operator"]) == "operator")
    }

    @Test(arguments: [
        ("bob", [String: String](), [String: String](), nil as String?, "cannot tell which credential the account 'bob' is"),
        ("operator", ["level": "manager"], [:], nil, "is the operator credential"),
        ("manager", [:], ["level": "operator"], nil, "names another"),
        ("operator", [:], [:], "operator", "is both manager and operator"),
        ("bob", ["level": "root"], [:], nil, "is not one of manager, operator"),
    ])
    func proCurveAccountsThatCannotBeMappedAreRefused(account: String, fields: [String: String], options: [String: String],
        enable: String?, message: String) throws
    {
        #expect { _ = try pick("hp-procurve", account, fields: fields, options: options, enable: enable) } throws: { e in
            (e as? ResetFailure)?.code == .unsupported && (e as? ResetFailure)?.message.contains(message) == true
        }
    }

    @Test func theOtherDialectsMapTheirSpecialAccountsAndUsers() throws {
        #expect(try pick("cisco-ios", "enable", enable: "enable") == "enable secret")
        #expect(try pick("cisco-ios", "ops", enable: "enable") == "local user")
        #expect(try pick("cisco-catos", "line", login: nil, nameRequired: false) == "line password")
        #expect(try pick("cisco-catos", "ops", login: nil) == "local user")
        #expect(try pick("cisco-asa", "line", login: nil, nameRequired: false) == "line password")
        #expect(try pick("cisco-asa", "enable", enable: "enable", nameRequired: false) == "enable password")
        #expect(try pick("juniper-junos", "root") == "root-authentication")
        #expect(try pick("juniper-junos", "ops", login: nil) == "login user")
        #expect(try pick("juniper-netscreen", "netscreen", login: nil) == "root admin")
        #expect(try pick("juniper-netscreen", "ops", login: nil) == "admin user")
        #expect(try pick("juniper-netscreen", "admin", fields: ["role": "root"], login: nil) == "root admin")
        #expect(try pick("hp-ilo", "Administrator", login: nil) == "local user")
    }

    static let base = DialectTests.minimal.replacingOccurrences(of: "constraints: {maxLength: 20}", with: """
        constraints: {maxLength: 20}
        options: {level: [a, b]}
        credentials:
          - {name: a, change: user, option: {level: a}, verify: {lands: user}}
        """)

    @Test func aCredentialsSectionParses() throws {
        let d = try DialectLibrary.parse(Self.base)
        #expect(d.allCredentials.map(\.name) == ["a"])
        // Without the section, the legacy change keys decide (an old administrator's file still loads).
        #expect(try DialectLibrary.parse(DialectTests.minimal).allCredentials.map(\.name) == ["local user"])
    }

    @Test(arguments: [
        ("change: user, option", "change: nothing, option", "names no procedure 'nothing'"),
        ("option: {level: a}", "option: {level: c}", "must be one option listed under options"),
        ("option: {level: a}", "option: {mode: a}", "must be one option listed under options"),
        ("verify: {lands: user}", "verify: {lands: enable}", "verify names no mode 'enable'"),
        ("option: {level: a}, verify", "verify", "selects no account"),
        ("{name: a, change", "{name: '', change", "name must be set and unique"),
        ("verify: {lands: user}}", "verify: {lands: user}}\n  - {name: b, change: user, option: {level: a}}", "picks two credentials"),
        ("verify: {lands: user}}", "verify: {lands: user}, accounts: [x]}\n  - {name: b, change: user, accounts: [x]}", "claimed by another"),
        ("verify: {lands: user}}", "verify: {lands: user, enters: user}}", "enters or lands, not both"),
        ("credentials:\n  - {name: a, change: user, option: {level: a}, verify: {lands: user}}", "credentials: []", "at least one credential"),
    ])
    func brokenCredentialsAreRefusedWithTheField(original: String, broken: String, message: String) throws {
        let text = Self.base.replacingOccurrences(of: original, with: broken)
        #expect(text != Self.base)
        #expect { try DialectLibrary.parse(text, file: "broken.yaml") } throws: { ($0 as? DialectError)?.message.contains(message) == true }
    }

    @Test func aProcedureNoCredentialUsesIsRefused() throws {
        let text = Self.base.replacingOccurrences(of: "constraints:", with: "  spare:\n    mode: user\n    steps: [{send: 'x {new}'}]\nconstraints:")
        #expect { try DialectLibrary.parse(text) } throws: { ($0 as? DialectError)?.message.contains("change.spare is used by no credential") == true }
    }
}
