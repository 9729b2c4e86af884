import Foundation
import Testing

@testable import Shared

@Suite struct SecretTests {
    @Test func everyTextualFormIsRedacted() {
        let s = Secret("hunter2-very-secret")
        var dumped = ""
        dump(s, to: &dumped)
        let forms = ["\(s)", String(describing: s), String(reflecting: s), dumped, "\([s])", "\(Optional(s) as Any)"]
        for form in forms {
            #expect(!form.contains("hunter2"), "leaked: \(form)")
        }
        #expect(s.reveal() == "hunter2-very-secret")
    }

    @Test func redactReplacesEveryOccurrence() {
        let out = Secret.redact("a=pw1 b=pw2 again pw1", [Secret("pw1"), Secret("pw2"), Secret("")])
        #expect(out == "a=<redacted> b=<redacted> again <redacted>")
    }
}

@Suite struct PasswordPolicyTests {
    @Test func violationsNameTheRuleButNeverThePassword() {
        let v = PasswordPolicy.strong.violations(of: Secret("1root"), loginName: "root")
        #expect(v.contains("must start with a letter"))
        #expect(v.contains("must not contain the login name"))
        #expect(v.contains { $0.hasPrefix("shorter than 12") })
        #expect(!v.joined().contains("1root"))
        #expect(PasswordPolicy.strong.violations(of: Secret("Abcdefgh1234!x"), loginName: "root").isEmpty)
    }

    @Test func inconsistentPoliciesAreReported() {
        #expect(!PasswordPolicy(name: "x", minLength: 10, maxLength: 5).problems().isEmpty)
        #expect(!PasswordPolicy(name: "x", minLength: 1, maxLength: 3, requireMixedCase: true, requireDigits: true, minSpecial: 1).problems().isEmpty)
        #expect(PasswordPolicy.builtIns.allSatisfy { $0.problems().isEmpty })
    }

    /// Property: for many random usable policies and login names, every generated password complies.
    @Test func generatorAlwaysSatisfiesAUsablePolicy() throws {
        var rng = SystemRandomNumberGenerator()
        var checked = 0
        for _ in 0..<3000 {
            let minLength = Int.random(in: 1...40, using: &rng)
            let policy = PasswordPolicy(
                name: "random", minLength: minLength, maxLength: Int.random(in: minLength...80, using: &rng),
                requireMixedCase: Bool.random(using: &rng), requireDigits: Bool.random(using: &rng),
                minSpecial: Int.random(in: 0...4, using: &rng), firstCharLetter: Bool.random(using: &rng),
                forbidLoginName: Bool.random(using: &rng), historyDepth: 0)
            guard policy.problems().isEmpty else { continue }
            let login = String((0..<Int.random(in: 1...6, using: &rng)).map { _ in "abcxyz019".randomElement(using: &rng)! })
            let generator = PasswordGenerator(preferredLength: Int.random(in: 1...30, using: &rng))
            let pw = try generator.generate(for: policy, loginName: login)
            #expect(policy.violations(of: pw, loginName: login).isEmpty, "policy \(policy) login \(login)")
            checked += 1
        }
        #expect(checked > 1000)
    }

    @Test(arguments: ["ßeta", "ﬁnance", "ŉame", "İstanbul", "a", "0"])
    func loginNamesWhoseCaseMappingGrowsDoNotBreakTheGenerator(login: String) throws {
        let pw = try PasswordGenerator().generate(for: .strong, loginName: login)
        #expect(PasswordPolicy.strong.violations(of: pw, loginName: login).isEmpty)
    }

    @Test func secretsEncodeOnlyWhenAskedAndNeverAsTheRedactedText() throws {
        struct Box: Codable { let s: Secret }
        #expect(throws: EncodingError.self) { try JSONEncoder().encode(Box(s: Secret("x1"))) }
        let e = JSONEncoder()
        e.userInfo[Secret.revealKey] = true
        let data = try e.encode(Box(s: Secret("x1")))
        #expect(try JSONDecoder().decode(Box.self, from: data).s.reveal() == "x1")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data(#"{"s":"<redacted>"}"#.utf8)) }
    }

    @Test func generatorRespectsNarrowedSpecials() throws {
        let gen = PasswordGenerator(preferredLength: 30, specials: ["_", "-"])
        for _ in 0..<200 {
            let pw = try gen.generate(for: PasswordPolicy(name: "s", minLength: 30, maxLength: 30, minSpecial: 3)).reveal()
            #expect(pw.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        }
        #expect(throws: PasswordGenerator.Failure.self) {
            try PasswordGenerator(specials: []).generate(for: PasswordPolicy(name: "s", minSpecial: 1))
        }
    }
}
