import Foundation

/// What a notice says on each channel, from its facts (no store, no network).
enum NoticeText {
    /// The template's values.
    static func values(_ facts: NotificationFacts, at: Date, channels: NotificationChannels) -> [String: String] {
        var values: [String: String] = [
            "event": facts.event.rawValue, "time": Notice.stamp(at), "user": facts.user, "ip": facts.ip, "status": facts.status,
            "server": channels.serverName, "accessURL": channels.accessURL ?? "",
        ]
        for (k, v) in [("resource", facts.resource), ("account", facts.account), ("group", facts.group), ("reason", facts.reason),
            ("message", facts.message), ("report", facts.report), ("run", facts.run), ("listener", facts.listener),
            ("runAt", facts.runAt.map(Notice.stamp))]
        { values[k] = v ?? "" }
        return values
    }

    /// PMP's syslog line: `user:ip event time status server target:account:reason`.
    static func syslog(_ facts: NotificationFacts, at: Date, server: String) -> String {
        let target = [facts.resource ?? facts.group ?? facts.listener ?? "-", facts.account ?? "-", facts.reason ?? facts.message ?? "-"]
        return "\(facts.user):\(facts.ip) \(facts.event.rawValue) \(Notice.stamp(at)) \(facts.status) \(server) " + target.joined(separator: ":")
    }

    static func syslogFields(_ facts: NotificationFacts) -> [[String]] {
        var fields = [["event", facts.event.rawValue], ["user", facts.user], ["status", facts.status]]
        for (k, v) in [("resource", facts.resource), ("account", facts.account), ("group", facts.group), ("listener", facts.listener)] {
            if let v { fields.append([k, v]) }
        }
        return fields
    }
}
