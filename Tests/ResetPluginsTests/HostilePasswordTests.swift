import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// Passwords that break naive quoting. Each one changes and verifies (checked with the system's
/// crypt too), or is refused before anything is sent; never does the target end up with a
/// password the vault does not hold.
@Suite(.needsTestTargets, .serialized) struct HostilePasswordTests {
    let plugin = UnixPlugin()
    typealias T = TestTargets

    static let accepted: [String] = {
        let punctuation = Array(##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##)
        var list = punctuation.map { "Ab1\($0)xyz9" }
        list += [
            ##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##,
            "with spaces inside 1A", " leading and trailing space ", "-LeadingDash1", "--help", "$(reboot)", "`id`", "a;b|c&d>e<f",
            String(repeating: "Xy9!", count: 16), String(repeating: "Zq8#", count: 32), "Pässwörd-ü1", "密码Pass1", "пароль-Pass1",
        ]
        return list
    }()

    static let refused: [String] = [String(repeating: "L", count: 129), "tab\there1", "new\nline1", "del\u{7F}1"]

    func through(_ elevation: ResetSettings.Elevation, change: ResetSettings.ChangeMethod, user: String) async throws {
        var current = "Hostile-Start-1"
        T.setPassword(user, current)
        for pw in Self.accepted {
            let job = T.job(user, current: current, new: pw, elevation: elevation,
                login: .init(loginName: elevation == .sudo ? T.sudoUser : T.loginUser,
                    password: Secret(elevation == .sudo ? T.sudoPassword : T.loginPassword)),
                root: .init(loginName: T.rootUser, password: Secret(T.rootPassword)), change: change)
            do {
                _ = try await plugin.reset(job)
            } catch {
                Issue.record("\(elevation)/\(change): a password of \(pw.count) characters failed: \(error)")
                #expect(T.passwordWorks(user, current), "the old password must still work after a failed change")
                continue
            }
            #expect(T.passwordWorks(user, pw), "\(elevation)/\(change): crypt disagrees for a password of \(pw.count) characters")
            try await plugin.verify(T.job(user, current: pw))
            current = pw
        }
        for pw in Self.refused {
            await #expect {
                _ = try await plugin.reset(T.job(user, current: current, new: pw, elevation: elevation,
                    login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)),
                    root: .init(loginName: T.rootUser, password: Secret(T.rootPassword)), change: change))
            } throws: { ($0 as? ResetFailure)?.code == .unsupported }
            #expect(T.passwordWorks(user, current))
        }
    }

    @Test func throughSuAndPasswd() async throws {
        try await through(.su, change: .passwd, user: T.target("hostile_su", password: "x"))
    }

    @Test func throughSudoAndChpasswd() async throws {
        try await through(.sudo, change: .chpasswd, user: T.target("hostile_ch", password: "x"))
    }
}
