import ArgumentParser
import Foundation

struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notify",
        abstract: "Email and syslog notifications (administrators).",
        discussion: """
            Events: password_changed, reset_failed, out_of_sync, rotation_upcoming, rotation_completed, password_expired, \
            listener_pending_approval, access_requested, access_decided. Each goes by email to the users with access (by default) and to the syslog \
            receiver, once these are configured. Deliveries are queued, retried, and listed by `custody notify list`.
            """,
        subcommands: [Show.self, Configure.self, Test.self, List.self, Event.self, Template.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the mail server and syslog settings (never the SMTP password).")
        @OptionGroup var options: ClientOptions
        func run() async throws { Output.print(try await options.client().call(.GET, "/settings/notifications"), json: true, columns: []) }
    }
    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the settings with a JSON file (the body of PUT /settings/notifications).",
            discussion: "With --ask-smtp-password the SMTP password is read from the terminal or standard input, so it need not sit in the file.")
        @OptionGroup var options: ClientOptions
        @Option(help: "JSON file: {\"smtp\": {...}, \"syslog\": {...}, \"accessURL\": ..., \"serverName\": ...}.") var file: String
        @Flag(help: "Read smtp.password from the terminal or standard input.") var askSmtpPassword = false
        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), var body = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("\(file) is not a JSON object")
            }
            if askSmtpPassword {
                guard var smtp = body["smtp"] as? [String: Any] else { throw ValidationError("--ask-smtp-password needs an smtp section") }
                smtp["password"] = try readSecret(prompt: "SMTP password: ")
                body["smtp"] = smtp
            }
            _ = try await options.client().call(.PUT, "/settings/notifications", json: body)
            print("saved")
        }
    }
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a test email (--email) or syslog message (--syslog) now and print the outcome.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Address to send a test email to.") var email: String?
        @Flag(help: "Send a test syslog message.") var syslog = false
        func run() async throws {
            var body: [String: Any] = [:]
            body["email"] = email
            if syslog { body["syslog"] = true }
            Output.print(try await options.client().call(.POST, "/notifications/test", json: body), json: options.json, columns: ["channel", "outcome"])
        }
    }
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queued, sent and failed notifications, newest first.")
        @OptionGroup var options: ClientOptions
        @Option(help: "pending, sent or failed.") var state: String?
        @Option(help: "At most this many (default 100).") var limit: Int?
        func run() async throws {
            var query: [String] = []
            if let state { query.append("state=\(state)") }
            if let limit { query.append("limit=\(limit)") }
            let path = "/notifications" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            Output.print(try await options.client().call(.GET, path), json: options.json,
                columns: ["createdAt", "event", "channel", "recipient", "state", "attempts", "lastError"])
        }
    }
    struct Event: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every event's rule and template, or set one event's channels and recipients.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The event to change; without it, all events are shown.") var event: String?
        @Option(help: "on or off.") var email: String?
        @Option(help: "on or off.") var syslog: String?
        @Option(help: "yes or no: mail the users with access to the passwords (default yes).") var usersWithAccess: String?
        @Option(name: .customLong("user"), help: "Also mail this user (repeat).") var users: [String] = []
        @Option(name: .customLong("user-group"), help: "Also mail this user group's members (repeat).") var groups: [String] = []
        @Option(name: .customLong("to"), help: "Also mail this address (repeat).") var emails: [String] = []
        func run() async throws {
            guard let event else {
                return Output.print(try await options.client().call(.GET, "/notifications/events"), json: true, columns: [])
            }
            func flag(_ v: String?, _ name: String) throws -> Bool? {
                guard let v else { return nil }
                switch v { case "on", "yes", "true": return true; case "off", "no", "false": return false
                default: throw ValidationError("--\(name) takes on or off") }
            }
            var body: [String: Any] = [:]
            body["email"] = try flag(email, "email")
            body["syslog"] = try flag(syslog, "syslog")
            var recipients: [String: Any] = ["users": users, "userGroups": groups, "emails": emails]
            recipients["usersWithAccess"] = try flag(usersWithAccess, "users-with-access") ?? true
            body["recipients"] = recipients
            _ = try await options.client().call(.PUT, "/notifications/events/\(event)", json: body)
            print("saved")
        }
    }
    struct Template: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show, replace (--subject and --body-file) or reset (--reset) an event's template.",
            discussion: "Placeholders: {{event}} {{time}} {{user}} {{ip}} {{status}} {{resource}} {{account}} {{group}} {{reason}} {{message}} {{report}} {{run}} {{runAt}} {{listener}} {{server}} {{accessURL}}.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The event.") var event: String
        @Option(help: "New subject.") var subject: String?
        @Option(help: "File holding the new body.") var bodyFile: String?
        @Flag(help: "Go back to the default template.") var reset = false
        func run() async throws {
            let path = "/notifications/templates/\(event)"
            if reset {
                _ = try await options.client().call(.DELETE, path)
                return print("reset to the default")
            }
            guard subject != nil || bodyFile != nil else { return Output.print(try await options.client().call(.GET, path), json: true, columns: []) }
            guard let subject, let bodyFile, let body = try? String(contentsOfFile: bodyFile, encoding: .utf8) else {
                throw ValidationError("give both --subject and a readable --body-file")
            }
            _ = try await options.client().call(.PUT, path, json: ["subject": subject, "body": body])
            print("saved")
        }
    }
}
