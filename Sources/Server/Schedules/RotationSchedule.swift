import Foundation

/// When a group's passwords rotate: once, every N days, monthly on a day, or never, at HH:MM in a
/// time zone, optionally only inside allowed hours. Times that a DST change skips run at the next
/// valid minute; times it repeats run once, at the first.
struct RotationSchedule: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable, CaseIterable { case once, days, monthly, never }

    /// Local hours in which a change may start; `from` after `to` wraps midnight.
    struct Window: Codable, Sendable, Equatable {
        var from: String
        var to: String
    }

    var kind: Kind
    var at: String
    /// `once`: the day (YYYY-MM-DD). `days`: the first day (default: the day the schedule was saved).
    var date: String?
    var everyDays: Int?
    /// 1...31; a month without that day runs on its last day.
    var dayOfMonth: Int?
    /// An IANA zone; default the server's.
    var timeZone: String?
    var allowedHours: Window?

    var zone: TimeZone { timeZone.flatMap(TimeZone.init(identifier:)) ?? .current }

    var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        return c
    }

    /// Why the schedule cannot be used; nil when it can.
    func problem() -> String? {
        guard Self.minutes(at) != nil else { return "schedule.at must be HH:MM (24 h)" }
        if let tz = timeZone, TimeZone(identifier: tz) == nil { return "schedule.timeZone '\(tz)' is not an IANA time zone" }
        if let d = date, Self.day(d) == nil { return "schedule.date must be YYYY-MM-DD" }
        switch kind {
        case .once where date == nil: return "a once schedule needs schedule.date"
        case .days where !(1...3650).contains(everyDays ?? 0): return "a days schedule needs schedule.everyDays 1...3650"
        case .monthly where !(1...31).contains(dayOfMonth ?? 0): return "a monthly schedule needs schedule.dayOfMonth 1...31"
        default: break
        }
        if let w = allowedHours, Self.minutes(w.from) == nil || Self.minutes(w.to) == nil || w.from == w.to {
            return "allowedHours needs from and to as different HH:MM times"
        }
        return nil
    }

    /// The first run strictly after `after`; `saved` anchors a days schedule without a date.
    func next(after: Date, saved: Date) -> Date? {
        let cal = calendar
        switch kind {
        case .never: return nil
        case .once:
            guard let day = date.flatMap({ Self.day($0, cal) }) else { return nil }
            let t = occurrence(on: day, cal)
            return t > after ? t : nil
        case .days:
            let every = max(1, everyDays ?? 1)
            let anchor = date.flatMap { Self.day($0, cal) } ?? cal.startOfDay(for: saved)
            let today = cal.startOfDay(for: max(after, anchor))
            let offset = cal.dateComponents([.day], from: anchor, to: today).day ?? 0
            var day = cal.date(byAdding: .day, value: (offset + every - 1) / every * every, to: anchor)!
            for _ in 0..<3 {
                let t = occurrence(on: day, cal)
                if t > after { return t }
                day = cal.date(byAdding: .day, value: every, to: day)!
            }
            return nil
        case .monthly:
            var month = cal.dateComponents([.year, .month], from: after)
            for _ in 0..<3 {
                let first = cal.date(from: month)!
                let last = cal.range(of: .day, in: .month, for: first)!.count
                let day = cal.date(byAdding: .day, value: min(dayOfMonth ?? 1, last) - 1, to: first)!
                let t = occurrence(on: day, cal)
                if t > after { return t }
                month = cal.dateComponents([.year, .month], from: cal.date(byAdding: .month, value: 1, to: first)!)
            }
            return nil
        }
    }

    /// Whether a change may start at `date`.
    func allows(_ date: Date) -> Bool {
        guard let w = allowedHours, let from = Self.minutes(w.from), let to = Self.minutes(w.to) else { return true }
        let c = calendar.dateComponents([.hour, .minute], from: date)
        let m = (c.hour ?? 0) * 60 + (c.minute ?? 0)
        return from < to ? (from..<to).contains(m) : (m >= from || m < to)
    }

    /// The end of the allowed window that `date` is in (nil without a window).
    func windowEnd(after date: Date) -> Date? {
        guard let w = allowedHours, let to = Self.minutes(w.to) else { return nil }
        return calendar.nextDate(after: date, matching: DateComponents(hour: to / 60, minute: to % 60, second: 0),
            matchingPolicy: .nextTime, repeatedTimePolicy: .first)
    }

    /// HH:MM on the local day starting at `day` (the next valid minute when DST skips it; the first when it repeats).
    func occurrence(on day: Date, _ cal: Calendar) -> Date {
        let m = Self.minutes(at) ?? 0
        return cal.nextDate(after: day.addingTimeInterval(-1), matching: DateComponents(hour: m / 60, minute: m % 60, second: 0),
            matchingPolicy: .nextTime, repeatedTimePolicy: .first)!
    }

    static func minutes(_ hhmm: String) -> Int? {
        let p = hhmm.split(separator: ":")
        guard p.count == 2, p[0].count == 2, p[1].count == 2, let h = Int(p[0]), let m = Int(p[1]), (0..<24).contains(h), (0..<60).contains(m)
        else { return nil }
        return h * 60 + m
    }

    static func day(_ ymd: String, _ cal: Calendar = Calendar(identifier: .gregorian)) -> Date? {
        let p = ymd.split(separator: "-").compactMap { Int($0) }
        guard p.count == 3, ymd.count == 10 else { return nil }
        let c = DateComponents(year: p[0], month: p[1], day: p[2])
        guard c.isValidDate(in: cal), let d = cal.date(from: c) else { return nil }
        return cal.startOfDay(for: d)
    }
}
