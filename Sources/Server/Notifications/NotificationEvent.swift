import Foundation

/// The events that notify, each with a default template (editable per event).
enum NotificationEvent: String, Codable, Sendable, CaseIterable {
    case passwordChanged = "password_changed"
    case resetFailed = "reset_failed"
    case outOfSync = "out_of_sync"
    case rotationUpcoming = "rotation_upcoming"
    case rotationCompleted = "rotation_completed"
    case passwordExpired = "password_expired"
    case listenerPendingApproval = "listener_pending_approval"
    case accessRequested = "access_requested"
    case accessDecided = "access_decided"
    case backupFailed = "backup_failed"
    case auditAlert = "audit_alert"
    case auditDigest = "audit_digest"

    var defaultTemplate: NotificationTemplate {
        switch self {
        case .passwordChanged:
            NotificationTemplate(subject: "Password changed: {{resource}} / {{account}}", body: """
                The password of {{account}} on {{resource}} was changed by {{user}} at {{time}}.
                Reason: {{reason}}
                {{message}}
                {{accessURL}}
                """)
        case .resetFailed:
            NotificationTemplate(subject: "Password reset failed: {{resource}} / {{account}}", body: """
                The reset of {{account}} on {{resource}}, requested by {{user}}, failed at {{time}}.
                {{message}}
                The password in the vault is unchanged unless the message says otherwise.
                {{accessURL}}
                """)
        case .outOfSync:
            NotificationTemplate(subject: "Out of sync: {{resource}} / {{account}}", body: """
                The password stored for {{account}} on {{resource}} no longer logs in (checked at {{time}}).
                {{message}}
                This notice repeats daily while the account stays out of sync.
                {{accessURL}}
                """)
        case .rotationUpcoming:
            NotificationTemplate(subject: "Passwords of group {{group}} rotate at {{runAt}}", body: """
                The scheduled rotation of group {{group}} starts at {{runAt}}. These passwords will change:
                {{report}}
                {{accessURL}}
                """)
        case .rotationCompleted:
            NotificationTemplate(subject: "Rotation of group {{group}}: {{status}}", body: """
                The rotation of group {{group}} (run {{run}}, started {{runAt}}) has finished.
                {{report}}
                {{accessURL}}
                """)
        case .passwordExpired:
            NotificationTemplate(subject: "Password expired: {{resource}} / {{account}}", body: """
                The password of {{account}} on {{resource}} has expired ({{time}}).
                {{message}}
                {{accessURL}}
                """)
        case .listenerPendingApproval:
            NotificationTemplate(subject: "Listener {{listener}} awaits approval", body: """
                {{user}} saved the listener {{listener}} at {{time}}; it runs only after another administrator approves it.
                {{message}}
                {{accessURL}}
                """)
        case .accessRequested:
            NotificationTemplate(subject: "Password access requested: {{resource}} / {{account}}", body: """
                {{user}} asked at {{time}} for the password of {{account}} on {{resource}} ({{status}}).
                Reason: {{reason}}
                {{message}}
                {{accessURL}}
                """)
        case .accessDecided:
            NotificationTemplate(subject: "Password access {{status}}: {{resource}} / {{account}}", body: """
                Your request for the password of {{account}} on {{resource}} is {{status}} ({{user}}, {{time}}).
                {{message}}
                {{accessURL}}
                """)
        case .auditAlert:
            NotificationTemplate(subject: "Audit: {{report}} by {{user}} ({{status}})", body: """
                {{user}} from {{ip}} at {{time}}: {{report}}, {{status}}.
                Resource: {{resource}}  Account: {{account}}  Reason: {{reason}}
                {{message}}
                {{accessURL}}
                """)
        case .auditDigest:
            NotificationTemplate(subject: "Audit digest of {{server}}", body: """
                {{message}}:
                {{report}}
                {{accessURL}}
                """)
        case .backupFailed:
            NotificationTemplate(subject: "Backup failed on {{server}}", body: """
                A backup of the vault failed at {{time}} ({{user}}).
                {{message}}
                Until a backup succeeds, the last good one is older than its schedule expects.
                {{accessURL}}
                """)
        }
    }

    var severity: Int {  // syslog: 4 warning, 5 notice
        switch self {
        case .resetFailed, .outOfSync, .passwordExpired, .backupFailed: 4
        default: 5
        }
    }
}

/// What one occurrence of an event says; every field is free of passwords.
struct NotificationFacts: Sendable {
    var event: NotificationEvent
    var user = "system"
    var ip = "server"
    var status = "success"
    var resource: String?
    var account: String?
    var group: String?
    var reason: String?
    var message: String?
    var report: String?
    var run: String?
    var runAt: Date?
    var listener: String?

    init(_ event: NotificationEvent) { self.event = event }
}
