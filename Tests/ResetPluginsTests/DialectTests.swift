import Foundation
import Shared
import Testing

@testable import ResetPlugins

/// The dialect files: every built-in loads and passes the checks; broken files are refused with
/// a message that names the field; each dialect's password limits refuse what the device cannot take.
@Suite struct DialectTests {
    let library = try! DialectLibrary.load()

    @Test func everyBuiltInDialectLoadsAndServesItsResourceType() throws {
        let expected = ["Cisco IOS": "cisco-ios", "Cisco CatOS": "cisco-catos", "Cisco PIX": "cisco-asa", "HP ProCurve": "hp-procurve",
            "HP iLO": "hp-ilo", "Juniper Netscreen": "juniper-netscreen", "Juniper JunOS": "juniper-junos"]
        #expect(library.dialects.count == expected.count)
        for (type, id) in expected {
            #expect(library.dialect(forType: type)?.id == id, "\(type)")
        }
    }

    static let minimal = """
        id: test-os
        name: Test OS
        resourceTypes: [Test]
        login: {username: 'login:', password: 'password:', failure: 'denied'}
        modes:
          - {name: user, prompt: '^\\w+>'}
        pagers: []
        errors: ['% error']
        change:
          user:
            mode: user
            steps:
              - send: 'passwd {user} {new}'
        constraints: {maxLength: 20}
        """

    @Test func aMinimalDialectParses() throws {
        let d = try DialectLibrary.parse(Self.minimal)
        #expect(d.id == "test-os")
        #expect(d.change["user"]?.steps.first?.send == "passwd {user} {new}")
    }

    @Test(arguments: [
        ("'passwd {user} {new}'", "'passwd {user} {secret}'", "unknown placeholder {secret}"),
        ("'^\\w+>'", "'^(\\w+>'", "modes[0].prompt is not a valid regular expression"),
        ("mode: user\n    steps", "mode: config\n    steps", "change.user.mode names no mode 'config'"),
        ("constraints: {maxLength: 20}", "constraints: {maxLength: 0}", "maxLength must be 1...512"),
        ("id: test-os", "id: 'test os'", "the id must be letters, digits and dashes"),
        ("constraints: {maxLength: 20}", "", "missing 'constraints'"),
        ("'passwd {user} {new}'", "'passwd {opt:level} {new}'", "unknown placeholder {opt:level}"),
        ("- send: 'passwd {user} {new}'", "- {send: 'passwd {user} {new}', timeout: 900}", "timeout must be 1...600 seconds"),
    ])
    func brokenDialectsAreRefusedWithTheField(original: String, broken: String, message: String) throws {
        let text = Self.minimal.replacingOccurrences(of: original, with: broken)
        #expect(text != Self.minimal)
        #expect { try DialectLibrary.parse(text, file: "broken.yaml") } throws: { ($0 as? DialectError)?.message.contains(message) == true }
    }

    @Test func anAdministratorsDirectoryAddsAndReplacesDialects() throws {
        let dir = "/tmp/custody-dialects-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.minimal.write(toFile: dir + "/test.yaml", atomically: true, encoding: .utf8)
        let ios = try String(contentsOfFile: DialectLibrary.builtInDirectory()! + "/cisco-ios.yaml", encoding: .utf8)
        try ios.replacingOccurrences(of: "maxLength: 25", with: "maxLength: 20").write(toFile: dir + "/ios.yaml", atomically: true, encoding: .utf8)
        let lib = try DialectLibrary.load(extraDirectory: dir)
        #expect(lib.dialect(forType: "Test")?.id == "test-os")
        #expect(lib.dialect(id: "cisco-ios")?.constraints.maxLength == 20)
        #expect(lib.sources["cisco-ios"] == dir + "/ios.yaml")
        try "id: [".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        #expect { try DialectLibrary.load(extraDirectory: dir) } throws: { "\($0)".contains("bad.yaml") }
    }

    /// Each dialect refuses, before connecting, what its device cannot type, and says why.
    @Test(arguments: [
        ("cisco-ios", "has?question", "without spaces or ?"),
        ("cisco-ios", "has space", "without spaces or ?"),
        ("cisco-ios", String(repeating: "a", count: 26), "at most 25"),
        ("cisco-asa", "ab", "at least 3"),
        ("hp-procurve", "q\"uote", "quotes"),
        ("hp-ilo", "short1", "at least 8"),
        ("juniper-netscreen", "dq\"x", "double quotes"),
        ("juniper-junos", "five5", "at least 6"),
        ("juniper-junos", "ünïcode-pass", "ASCII"),
        ("cisco-catos", "tab\tchar", "control character"),
    ])
    func passwordsOutsideADialectsLimitsAreRefused(dialect: String, password: String, reason: String) async throws {
        let plugin = NetworkDevicePlugin(dialect: library.dialect(id: dialect)!)
        let job = ResetJob(operation: .reset, resource: ["IPADDRESS": "127.0.0.1"], account: ["LOGINNAME": "admin"],
            currentPassword: Secret("Old-Pass-1"), newPassword: Secret(password), settings: ResetSettings(port: 1))
        await #expect {
            _ = try await plugin.reset(job)
        } throws: { e in
            let f = e as? ResetFailure
            return f?.code == .unsupported && f?.message.contains(reason) == true && f?.message.contains(password) == false
        }
    }

    @Test func theGeneratorAvoidsEachDialectsForbiddenCharacters() throws {
        for d in library.dialects.values {
            let c = NetworkDevicePlugin(dialect: d).descriptor.constraints
            for ch in d.constraints.forbidden ?? "" { #expect(!c.generatorSpecials.contains(ch), "\(d.id) \(ch)") }
            #expect(c.maxLength == d.constraints.maxLength)
        }
    }

    @Test func accountNamesThatCouldInjectCommandsAreRefused() async throws {
        let plugin = NetworkDevicePlugin(dialect: library.dialect(id: "cisco-ios")!)
        for name in ["a b", "x;y", "-flag", "", "na\"me", "über"] {
            let job = ResetJob(operation: .reset, resource: ["IPADDRESS": "127.0.0.1"], account: ["LOGINNAME": name],
                currentPassword: Secret("Old-Pass-1"), newPassword: Secret("New-Pass-2"), settings: ResetSettings(port: 1))
            await #expect { _ = try await plugin.reset(job) } throws: { ($0 as? ResetFailure)?.code == .unsupported }
        }
    }
}
