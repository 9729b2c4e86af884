import Foundation

/// The host's login accounts for account sync: root and regular users (UID 1000 to 65533) whose
/// shell allows a login, read from /etc/passwd.
enum LocalAccounts {
    static func list(passwd: String = "/etc/passwd") -> [String]? {
        guard let text = try? String(contentsOfFile: passwd, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count >= 7, let uid = Int(f[2]), uid == 0 || (1000..<65534).contains(uid) else { return nil }
            let shell = f[6]
            guard !shell.hasSuffix("nologin"), !shell.hasSuffix("false") else { return nil }
            return String(f[0])
        }
    }
}
