import Foundation

/// The one rule for login names Custody hands to a shell, a device CLI or an agent's chpasswd:
/// letters, digits, `.`, `_`, `-`, `@`, and `$` only at the end (machine accounts); not starting
/// with `-`; at most 64 characters. Anything else is refused before anything is sent, always with
/// the code `unsupported` (the API answers 400 `invalid_login_name`). Names still reach shells
/// single-quoted.
public enum LoginName {
    public static func check(_ name: String) throws(ResetFailure) {
        let scalars = Array(name.unicodeScalars)
        let ok = !scalars.isEmpty && scalars.count <= 64 && scalars.first != "-"
            && scalars.enumerated().allSatisfy { i, s in
                s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-@".unicodeScalars.contains(s) || (s == "$" && i == scalars.count - 1 && i > 0))
            }
        if !ok {
            throw ResetFailure(.unsupported, "'\(name)' is not a login name Custody can pass to this target "
                + "(letters, digits, . _ - @, and $ only at the end)")
        }
    }

    /// `name` single-quoted for a POSIX shell: nothing in it is expanded.
    public static func shellQuoted(_ name: String) -> String { "'" + name.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
}

extension ResetPlugin {
    /// Plugins that type login names into shells or CLIs check them here (default: anything goes,
    /// e.g. LDAP DNs and SQL identifiers, which those plugins escape themselves).
    public func checkLoginName(_ name: String) throws(ResetFailure) {}
}
