#if os(Windows)
import Shared
import WinSDK

/// `WindowsAccounts` through the Win32 API. Compiled only on Windows; never compiled here (no
/// Windows toolchain): see the README's *Windows* section for what is and is not verified.
public struct Win32Accounts: WindowsAccounts {
    public init() {}

    public func setPassword(user: String, to password: Secret) -> UInt32 {
        user.withCString(encodedAs: UTF16.self) { name in
            password.reveal().withCString(encodedAs: UTF16.self) { text in
                var info = USER_INFO_1003(usri1003_password: UnsafeMutablePointer(mutating: text))
                return withUnsafeMutableBytes(of: &info) { raw in
                    UInt32(NetUserSetInfo(nil, name, 1003, raw.baseAddress!.assumingMemoryBound(to: BYTE.self), nil))
                }
            }
        }
    }

    public func logon(user: String, password: Secret) -> UInt32? {
        var token: HANDLE? = nil
        let ok: Bool = user.withCString(encodedAs: UTF16.self) { name in
            ".".withCString(encodedAs: UTF16.self) { domain in
                password.reveal().withCString(encodedAs: UTF16.self) { text in
                    LogonUserW(name, domain, text, DWORD(LOGON32_LOGON_NETWORK), DWORD(LOGON32_PROVIDER_DEFAULT), &token)
                }
            }
        }
        if let token { CloseHandle(token) }
        return ok ? nil : UInt32(GetLastError())
    }
}
#endif
