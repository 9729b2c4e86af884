import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// Schedule arithmetic: local times across both DST changes, day 31 in short months, time zones,
/// allowed hours. Pure: no clock is waited for.
@Suite struct RotationScheduleTests {
    static func utc(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }
    static let saved = utc("2026-01-01T00:00:00Z")

    func runs(_ s: RotationSchedule, from: String, count: Int) -> [String] {
        var out: [String] = []
        var t = Self.utc(from)
        let f = ISO8601DateFormatter()
        for _ in 0..<count {
            guard let n = s.next(after: t, saved: Self.saved) else { break }
            out.append(f.string(from: n))
            t = n
        }
        return out
    }

    @Test func dailyKeepsItsLocalTimeAcrossBothDSTChanges() {
        let s = RotationSchedule(kind: .days, at: "09:00", everyDays: 1, timeZone: "Europe/Berlin")
        #expect(runs(s, from: "2026-03-27T12:00:00Z", count: 3) == ["2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"])
        #expect(runs(s, from: "2026-10-23T12:00:00Z", count: 3) == ["2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"])
    }

    @Test func aTimeTheSpringChangeSkipsRunsAtTheNextValidMinuteAndARepeatedOneRunsOnce() {
        let s = RotationSchedule(kind: .days, at: "02:30", everyDays: 1, timeZone: "Europe/Berlin")
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist: run at 03:00 CEST (01:00 UTC).
        #expect(runs(s, from: "2026-03-28T12:00:00Z", count: 2) == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        // 25 October 2026: 02:30 happens twice (CEST, then CET): one run, at the first.
        #expect(runs(s, from: "2026-10-24T12:00:00Z", count: 2) == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
    }

    @Test func monthlyOnThe31stRunsOnTheLastDayOfShortMonths() {
        let s = RotationSchedule(kind: .monthly, at: "01:00", dayOfMonth: 31, timeZone: "UTC")
        #expect(runs(s, from: "2026-01-15T00:00:00Z", count: 5) == ["2026-01-31T01:00:00Z", "2026-02-28T01:00:00Z", "2026-03-31T01:00:00Z",
            "2026-04-30T01:00:00Z", "2026-05-31T01:00:00Z"])
        let leap = RotationSchedule(kind: .monthly, at: "01:00", dayOfMonth: 30, timeZone: "UTC")
        #expect(runs(leap, from: "2028-02-01T00:00:00Z", count: 1) == ["2028-02-29T01:00:00Z"])
    }

    @Test func everyNDaysCountsFromItsFirstDay() {
        let s = RotationSchedule(kind: .days, at: "06:00", date: "2026-05-01", everyDays: 10, timeZone: "UTC")
        #expect(runs(s, from: "2026-04-01T00:00:00Z", count: 3) == ["2026-05-01T06:00:00Z", "2026-05-11T06:00:00Z", "2026-05-21T06:00:00Z"])
        #expect(runs(s, from: "2026-05-15T00:00:00Z", count: 1) == ["2026-05-21T06:00:00Z"])
    }

    @Test func onceRunsOnceAndNeverNever() {
        let once = RotationSchedule(kind: .once, at: "23:30", date: "2026-12-24", timeZone: "America/New_York")
        #expect(runs(once, from: "2026-01-01T00:00:00Z", count: 3) == ["2026-12-25T04:30:00Z"])
        #expect(RotationSchedule(kind: .never, at: "01:00").next(after: Date(), saved: Date()) == nil)
    }

    @Test func theTimeZoneDecidesTheInstant() {
        var s = RotationSchedule(kind: .days, at: "09:00", everyDays: 1, timeZone: "Europe/Berlin")
        #expect(runs(s, from: "2026-06-01T00:00:00Z", count: 1) == ["2026-06-01T07:00:00Z"])
        s.timeZone = "America/New_York"
        #expect(runs(s, from: "2026-06-01T00:00:00Z", count: 1) == ["2026-06-01T13:00:00Z"])
    }

    @Test func allowedHoursIncludingAWindowOverMidnight() {
        var s = RotationSchedule(kind: .days, at: "09:00", everyDays: 1, timeZone: "UTC", allowedHours: .init(from: "08:00", to: "18:00"))
        #expect(s.allows(Self.utc("2026-06-01T08:00:00Z")) && s.allows(Self.utc("2026-06-01T17:59:00Z")))
        #expect(!s.allows(Self.utc("2026-06-01T18:00:00Z")) && !s.allows(Self.utc("2026-06-01T07:59:00Z")))
        #expect(s.windowEnd(after: Self.utc("2026-06-01T09:00:00Z")) == Self.utc("2026-06-01T18:00:00Z"))
        s.allowedHours = .init(from: "22:00", to: "04:00")
        #expect(s.allows(Self.utc("2026-06-01T23:00:00Z")) && s.allows(Self.utc("2026-06-02T03:00:00Z")))
        #expect(!s.allows(Self.utc("2026-06-01T12:00:00Z")))
    }

    @Test func badSchedulesAreExplained() {
        let bad: [RotationSchedule] = [
            .init(kind: .days, at: "9:00", everyDays: 1), .init(kind: .days, at: "24:00", everyDays: 1), .init(kind: .days, at: "09:00"),
            .init(kind: .monthly, at: "09:00", dayOfMonth: 32), .init(kind: .once, at: "09:00"),
            .init(kind: .once, at: "09:00", date: "2026-02-30"), .init(kind: .days, at: "09:00", everyDays: 1, timeZone: "Mars/Olympus"),
            .init(kind: .days, at: "09:00", everyDays: 1, allowedHours: .init(from: "08:00", to: "08:00")),
        ]
        for s in bad { #expect(s.problem() != nil, "\(s)") }
        #expect(RotationSchedule(kind: .monthly, at: "09:00", dayOfMonth: 31, timeZone: "Asia/Tokyo").problem() == nil)
    }
}
