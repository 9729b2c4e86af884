import CLDAP
import Shared

/// Active Directory's answers, in words: the constraint texts of a refused password (`0000052D`,
/// `00000056`) and the `data` code of a refused bind (`52e` wrong password, `533` disabled…).
enum ADRefusal {
    /// A refused password change in words, with its code: the old value not matching means the
    /// stored password is not the current one (`authenticationFailed`: the bind took the previous
    /// one, which AD accepts for an hour); "too young" is `permissionDenied` (no other password
    /// would pass now); the rest is the policy (`rejectedByTarget`, a new password may pass).
    /// nil when the diagnostic is not one of AD's.
    static func passwordRefusal(_ diagnostic: String) -> (ResetFailure.Code, String)? {
        let d = diagnostic.lowercased()
        if d.contains("00000056") || d.contains("old password specified doesn't match") {
            return (.authenticationFailed, "the old password does not match: the stored password is not the account's current one")
        }
        guard d.contains("0000052d") || d.contains("check_password_restrictions") else { return nil }
        if d.contains("too young") { return (.permissionDenied, "the password was changed too recently (the domain's minimum password age)") }
        if d.contains("too short") { return (.rejectedByTarget, "the password is shorter than the domain's minimum length") }
        if d.contains("complexity") { return (.rejectedByTarget, "the password does not meet the domain's complexity rules") }
        if d.contains("history") { return (.rejectedByTarget, "the password was used before (the domain keeps a password history)") }
        return (.rejectedByTarget, "the domain's password policy refused the password")
    }

    /// The `data` code of AD's "AcceptSecurityContext error, data 52e" bind refusals.
    static func bindData(_ diagnostic: String) -> String? {
        guard let r = diagnostic.range(of: "data ", options: .caseInsensitive) else { return nil }
        let code = diagnostic[r.upperBound...].prefix { $0.isHexDigit }
        return code.isEmpty ? nil : code.lowercased()
    }

    /// A refused bind: a wrong password or unknown name is `authenticationFailed`; an account that
    /// cannot sign in for another reason (disabled, locked, expired) is `permissionDenied`.
    static func bindFailure(_ f: LDAPConnection.Failure, text: String) -> ResetFailure? {
        guard f.code == LDAP_INVALID_CREDENTIALS, let data = bindData(f.diagnostic) else { return nil }
        let reason: String
        switch data {
        case "52e": return ResetFailure(.authenticationFailed, "\(text) (wrong password)")
        case "525": return ResetFailure(.authenticationFailed, "\(text) (no such account)")
        case "530": reason = "not allowed to sign in at this time"
        case "531": reason = "not allowed to sign in from this computer"
        case "532": reason = "the password has expired"
        case "533": reason = "the account is disabled"
        case "701": reason = "the account has expired"
        case "773": reason = "the password must be changed at next sign-in"
        case "775": reason = "the account is locked out"
        default: reason = "AD refused the sign-in for another reason than the password (data \(data))"
        }
        return ResetFailure(.permissionDenied, "\(text) (\(reason))")
    }
}
