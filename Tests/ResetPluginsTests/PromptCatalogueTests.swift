import Foundation
import Testing

@testable import ResetPlugins

/// The one prompt catalogue against the prompts real systems print (passwd and PAM on Linux,
/// Solaris, AIX, HP-UX and macOS, in the locales admins meet).
@Suite struct PromptCatalogueTests {
    typealias P = PromptSession.Pattern

    /// What a change dialogue takes `line` for (the patterns in the Unix dialogue's order).
    static func change(_ line: String) throws -> String? {
        let patterns = [P("current", Prompts.current), P("retype", Prompts.retype), P("new", Prompts.new)]
        return try PromptSession.firstMatch(patterns, in: "passwd\n" + line, from: 0, budget: 1).get()?.0
    }

    /// What keyboard-interactive answers `prompt` with during an expired-password login.
    static func keyboard(_ prompt: String) -> String? {
        let answers = [("new", Prompts.KeyboardInteractive.new), ("current", Prompts.KeyboardInteractive.current),
            ("login", Prompts.KeyboardInteractive.login)]
        let lower = prompt.lowercased()
        return answers.first { lower.range(of: $0.1, options: .regularExpression) != nil }?.0
    }

    @Test(arguments: [
        ("Current password: ", "current"), ("(current) UNIX password: ", "current"), ("New password: ", "new"),
        ("Retype new password: ", "retype"), ("Enter new UNIX password: ", "new"), ("Retype new UNIX password: ", "retype"),
        ("Enter existing login password: ", "current"), ("New Password: ", "new"), ("Re-enter new Password: ", "retype"),
        ("ct_x's Old password: ", "current"), ("ct_x's New password: ", "new"), ("Enter the new password again:", "new"),
        ("Old Password:", "current"), ("Retype New Password:", "retype"),
        ("Aktuelles Passwort: ", "current"), ("Neues Passwort: ", "new"), ("Geben Sie das neue Passwort erneut ein: ", "new"),
        ("Mot de passe actuel : ", "current"), ("Nouveau mot de passe : ", "new"), ("Retapez le nouveau mot de passe : ", "retype"),
        ("Contraseña actual: ", "current"), ("Nueva contraseña: ", "new"),
        ("New password for holder: ", "new"),
    ])
    func changePromptsAreTold(line: String, expected: String) throws {
        #expect(try Self.change(line) == expected, "\(line)")
    }

    @Test(arguments: ["Changing password for ct_x.", "BAD PASSWORD: The password is shorter than 8 characters", "Password for holder"])
    func linesThatAreNoChangePromptAreLeftAlone(line: String) throws {
        #expect(try Self.change(line) == nil, "\(line)")
    }

    @Test(arguments: [
        ("Password: ", "login"), ("ct_x@web01's password: ", "login"), ("(current) UNIX password: ", "current"),
        ("Current password: ", "current"), ("New password: ", "new"), ("Retype new password: ", "new"),
        ("Passwort: ", "login"), ("Neues Passwort: ", "new"), ("Mot de passe : ", "login"), ("Nouveau mot de passe : ", "new"),
        ("Enter existing login password: ", "current"), ("Password for holder: ", "login"),
    ])
    func keyboardInteractivePromptsAreTold(prompt: String, expected: String) {
        #expect(Self.keyboard(prompt) == expected, "\(prompt)")
    }

    @Test func aVerificationCodeIsNeverAnsweredWithAPassword() {
        #expect(Self.keyboard("Verification code: ") == nil)
    }

    @Test(arguments: ["required to change your password", "Your password has expired.", "You must change your password now",
        "WARNING: Your password has expired.\nPassword change required but no TTY available."])
    func expiryNoticesAreTold(text: String) throws {
        #expect(try PromptSession.firstMatch([P("expired", Prompts.expired)], in: text, from: 0, budget: 1).get() != nil)
    }
}
