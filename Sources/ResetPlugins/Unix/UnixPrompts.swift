/// The prompts and messages of passwd, su and sudo on Linux, Solaris, HP-UX, AIX, macOS and
/// ESXi (the generic ones from `Prompts`). Any of them can be overridden per resource (`prompts` in the reset config).
enum UnixPrompts {
    typealias P = PromptSession.Pattern

    /// su's password prompt in the locales admins meet.
    static let suPassword = Prompts.password
    static let suFailure = #"(authentication failure|incorrect password|sorry|su: .*(failure|incorrect|denied|does not exist|unknown))"#
    /// What the shell prints for the prompt argument `'CUSTODY_SUDO''_PROMPT: '` (the echo shows the quotes).
    static let sudoPrompt = #"CUSTODY_SUDO_PROMPT: ?$"#
    static let sudoRetry = #"(sorry, try again|incorrect password attempt)"#
    static let sudoRefused = #"(is not in the sudoers file|is not allowed to (execute|run)|may not run sudo|not allowed to run sudo|a password is required)"#

    static let current = Prompts.current
    static let retype = Prompts.retype
    static let new = Prompts.new
    static let badPassword = #"(bad password|password unchanged|authentication token manipulation error|too short|too simple|palindrome|do not match|dictionary|too similar|has already been used|password history|not meet|rejected)[^\n]*"#

    static func rc(_ marker: String) -> String { "^\(marker)=(\\d+)\\s*$" }
}
