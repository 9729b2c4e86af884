import Shared

/// The two Windows calls the Windows plugin makes, behind a protocol so the plugin's logic is
/// compiled and tested on Linux: `Win32Accounts` makes them on Windows, a test double elsewhere.
public protocol WindowsAccounts: Sendable {
    /// `NetUserSetInfo` level 1003 on the local machine: a `NET_API_STATUS` (0 is success).
    func setPassword(user: String, to password: Secret) -> UInt32
    /// `LogonUserW`, network logon, local account (domain "."): nil when it succeeds, else
    /// `GetLastError()`.
    func logon(user: String, password: Secret) -> UInt32?
}

/// The status codes the plugin tells apart (winerror.h, lmerr.h).
public enum WindowsStatus {
    public static let success: UInt32 = 0
    public static let accessDenied: UInt32 = 5
    public static let invalidPassword: UInt32 = 86
    public static let logonFailure: UInt32 = 1326
    public static let accountRestriction: UInt32 = 1327
    public static let passwordExpired: UInt32 = 1330
    public static let accountDisabled: UInt32 = 1331
    public static let accountLockedOut: UInt32 = 1909
    public static let userNotFound: UInt32 = 2221
    public static let passwordTooShort: UInt32 = 2245
}
