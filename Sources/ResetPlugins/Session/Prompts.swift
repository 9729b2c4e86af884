/// The one prompt catalogue: how a login, su, passwd and an expired-password change ask, in the
/// languages admins meet. The Unix dialogue, the telnet login and SSH keyboard-interactive build
/// their patterns from these words; a resource's `prompts` and a dialect's YAML override them.
enum Prompts {
    enum Words {
        static let password = "(password|passwort|mot de passe|contraseña|senha|密码|口令|パスワード|пароль|암호)"
        static let new = "(new|neu|nouveau|nuevo|nueva|nova|novo)"
        static let again = "(retype|re-enter|reenter|again|repeat|confirm|verify|erneut|wiederhol|retapez|de nuevo|otra vez)"
        /// At a word's start ("old", not "holder"); never "alt" and the like, which hide in other words.
        static let current = "\\b(current|old|existing|aktuell|actuel|ancien|actual)"
    }

    /// The system says the password must change before a shell is given.
    static let expired = #"(required to change your password|password has expired|must change your password|password change required)"#
    /// The system says a change went through ("all authentication tokens updated successfully",
    /// Solaris's "password successfully changed").
    static let changed = #"(updated successfully|tokens updated|password changed|successfully changed)"#
    static let shell = #"[$#>%]\s*$"#
    static let loginName = #"(login|username|user name)\s*:\s*$"#
    static let loginFailed = #"(login incorrect|authentication fail|access denied|login failed|invalid login)"#

    // Line prompts, for `PromptSession` (case-insensitive, at a line's end).
    static let password = Words.password + #"\s*[:：]\s*$"#
    /// "Current password", and "Mot de passe actuel" where the word comes after.
    static let current =
        "(\(Words.current)[^\\n]*\(Words.password)[^\\n]*|\(Words.password)[^\\n]*\(Words.current)[^\\n]*|\\(current\\)[^\\n]*)[:：]\\s*$"
    static let new = "\(Words.new)[^\\n]*\(Words.password)[^\\n]*[:：]\\s*$"
    static let retype = "\(Words.again)[^\\n]*[:：]\\s*$"

    /// Keyboard-interactive prompts: one prompt's text, lowercased, searched anywhere in it.
    enum KeyboardInteractive {
        static let new = "(\(Words.new)|\(Words.again))[^:]*\(Words.password)"
        static let current = "((\(Words.current)|\\(current\\))[^:]*\(Words.password)|\(Words.password)[^:]*\(Words.current))"
        /// The login's own prompt: a password prompt that is not a change's.
        static let login = "^(?!.*(\(Words.new)|\(Words.again))).*\(Words.password)"
    }
}
