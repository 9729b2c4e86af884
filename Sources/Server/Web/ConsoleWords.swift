import Foundation

/// States as a person reads them: `outOfSync` is "out of sync", `pendingApproval` "pending approval".
enum ConsoleWords {
    static let special: [String: String] = ["neverChecked": "never checked", "missing": "missing on the target", "inSync": "in sync",
        "outOfSync": "out of sync"]

    static func state(_ raw: String) -> String {
        if let s = special[raw] { return s }
        var out = ""
        for c in raw {
            if c.isUppercase, !out.isEmpty { out += " " }
            out += c.lowercased()
        }
        return out
    }
}
