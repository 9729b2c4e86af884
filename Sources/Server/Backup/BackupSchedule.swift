import Foundation

/// `backupSchedule`: `daily HH:MM` (or just `HH:MM`) in the server's time zone, or `off`.
enum BackupSchedule {
    /// nil: not a schedule; `.some(nil)`: off.
    static func parse(_ text: String) -> RotationSchedule?? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "off" || t == "never" { return .some(nil) }
        let at = t.hasPrefix("daily ") ? String(t.dropFirst(6)).trimmingCharacters(in: .whitespaces) : t
        let s = RotationSchedule(kind: .days, at: at, everyDays: 1)
        return s.problem() == nil ? .some(s) : nil
    }
}
