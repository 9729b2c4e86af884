import Foundation
import Shared

/// The setting `directorySync` (in the directory settings): which imports a sync re-runs, and when
/// (daily at `dailyAt` in `timeZone`; without `dailyAt` only on demand). A sync acts as the
/// super-administrator who saved it; unlike an import, it disables the directory users and marks
/// `missing` the domain accounts its earlier runs made that the directory no longer lists.
struct DirectorySync: Codable, Sendable, Equatable {
    var dailyAt: String?
    var timeZone: String?
    var users: DirectoryImportUsersBody?
    var resources: [DirectoryImportResourcesBody]?

    static let fields = ["dailyAt", "timeZone", "users", "resources"]

    init(dailyAt: String? = nil, timeZone: String? = nil, users: DirectoryImportUsersBody? = nil, resources: [DirectoryImportResourcesBody]? = nil) {
        (self.dailyAt, self.timeZone, self.users, self.resources) = (dailyAt, timeZone, users, resources)
    }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Self.fields)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dailyAt = try c.decodeIfPresent(String.self, forKey: .dailyAt)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        users = try c.decodeIfPresent(DirectoryImportUsersBody.self, forKey: .users)
        resources = try c.decodeIfPresent([DirectoryImportResourcesBody].self, forKey: .resources)
    }

    func validate() throws {
        if let at = dailyAt, RotationSchedule.minutes(at) == nil { throw DomainError.invalid("invalid_field", "directorySync.dailyAt must be HH:MM (24 h)") }
        if let tz = timeZone, TimeZone(identifier: tz) == nil {
            throw DomainError.invalid("invalid_field", "directorySync.timeZone '\(tz)' is not an IANA time zone")
        }
        guard users != nil || !(resources ?? []).isEmpty else {
            throw DomainError.invalid("missing_field", "directorySync needs users (groups or bases) or resources (imports) to re-run")
        }
        guard (resources ?? []).count <= 20 else { throw DomainError.invalid("invalid_field", "directorySync.resources takes at most 20 imports") }
        try users?.validate()
        for r in resources ?? [] { try r.validate() }
    }

    /// Whether a run is due at `at`, the last having started at `last`.
    func due(at: Date, last: Date?) -> Bool {
        guard let dailyAt, let last else { return false }
        let schedule = RotationSchedule(kind: .days, at: dailyAt, everyDays: 1, timeZone: timeZone)
        return schedule.next(after: last, saved: last).map { $0 <= at } ?? false
    }
}

/// What a sync did: each import's report, and the users it disabled.
struct DirectorySyncReport: Codable, Sendable {
    var ok = true
    var error: String?
    var users: DirectoryImportReport?
    var resources: [DirectoryResourcesReport] = []
    var disabled: [String] = []
}
