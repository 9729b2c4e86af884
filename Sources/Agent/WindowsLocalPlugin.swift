#if os(Windows)
import Shared
import WinSDK

/// Local accounts on Windows: `NetUserSetInfo` (level 1003) to change, `LogonUserW` (network
/// logon) to verify. Compiled only on Windows; untested (no Windows machine here).
struct WindowsLocalPlugin: ResetPlugin {
    let descriptor = PluginDescriptor(id: "windows-local", resourceTypes: ["Windows"], capabilities: [.reset, .verify],
        constraints: PasswordConstraints(maxLength: 127))

    func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.rejectedByTarget, "no new password") }
        let status: DWORD = job.loginName.withCString(encodedAs: UTF16.self) { user in
            new.reveal().withCString(encodedAs: UTF16.self) { password in
                var info = USER_INFO_1003(usri1003_password: UnsafeMutablePointer(mutating: password))
                return withUnsafeMutableBytes(of: &info) { raw in
                    NetUserSetInfo(nil, user, 1003, raw.baseAddress!.assumingMemoryBound(to: BYTE.self), nil)
                }
            }
        }
        guard status == DWORD(NERR_Success) else {
            throw ResetFailure(status == DWORD(ERROR_ACCESS_DENIED) ? .permissionDenied : .rejectedByTarget,
                "NetUserSetInfo failed with status \(status)")
        }
        return ResetReport(message: "changed with NetUserSetInfo")
    }

    func verify(_ job: ResetJob) async throws(ResetFailure) {
        guard let current = job.currentPassword else { throw ResetFailure(.authenticationFailed, "no stored password") }
        var token: HANDLE? = nil
        let ok: Bool = job.loginName.withCString(encodedAs: UTF16.self) { user in
            ".".withCString(encodedAs: UTF16.self) { domain in
                current.reveal().withCString(encodedAs: UTF16.self) { password in
                    LogonUserW(user, domain, password, DWORD(LOGON32_LOGON_NETWORK), DWORD(LOGON32_PROVIDER_DEFAULT), &token)
                }
            }
        }
        if let token { CloseHandle(token) }
        guard ok else { throw ResetFailure(.authenticationFailed, "LogonUserW refused the password (error \(GetLastError()))") }
    }
}
#endif
