import ArgumentParser
import Foundation

/// Reports over what the caller can see.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Reports over the accounts you can see.",
        subcommands: [Inventory.self, Expiry.self, Compliance.self, Activity.self, Schedule.self])

    struct Expiry: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Passwords past their policy's maximum age, and those reaching it soon.",
            discussion: """
                Only accounts whose policy (the resource's, else its group's, else the default) has maxAgeDays. Soonest \
                first; exits 1 when a password has expired (not with --csv), so a cron job can alert on it.
                """)
        static let routes = ["GET /reports/expiry"]
        @OptionGroup var options: ClientOptions
        @Option(help: "Days ahead to include (0...3650).") var within: Int = 14
        @Flag(help: "Print CSV.") var csv = false
        func run() async throws {
            let client = try options.client()
            let path = "/reports/expiry?within=\(within)"
            if csv { return print(String(decoding: try await client.fetch(.GET, path + "&format=csv"), as: UTF8.self), terminator: "") }
            let answer = try await client.call(.GET, path) as? [String: Any] ?? [:]
            Output.print(options.json ? answer : answer["accounts"], json: options.json,
                columns: ["resource", "account", "expired", "expiresAt", "changedAt", "policy"])
            if (answer["summary"] as? [String: Any])?["expired"] as? Int ?? 0 > 0 { throw ExitCode(1) }
        }
    }

    struct Inventory: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Resources, accounts, types and owners you can see.",
            discussion: "One row per account: its policy, sync state, last change, last reset and how many users a share reaches.")
        static let routes = ["GET /reports/inventory"]
        @OptionGroup var options: ClientOptions
        @Flag(help: "Print CSV.") var csv = false
        func run() async throws {
            let client = try options.client()
            if csv { return print(String(decoding: try await client.fetch(.GET, "/reports/inventory?format=csv"), as: UTF8.self), terminator: "") }
            let answer = try await client.call(.GET, "/reports/inventory") as? [String: Any] ?? [:]
            Output.print(options.json ? answer : answer["accounts"], json: options.json,
                columns: ["resource", "resourceType", "owner", "account", "policy", "syncStatus", "sharedWith"])
        }
    }

    struct Compliance: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Accounts that fall short of policy.",
            discussion: """
                Never rotated (no remote reset has succeeded), out of sync, breaking their policy's rules or maximum age, or shared \
                with more than --max-shared users. Exits 1 when an account falls short (not with --csv).
                """)
        static let routes = ["GET /reports/compliance"]
        @OptionGroup var options: ClientOptions
        @Option(help: "Users a share may reach before it is too wide.") var maxShared: Int = 10
        @Flag(help: "Print CSV.") var csv = false
        func run() async throws {
            let client = try options.client()
            let path = "/reports/compliance?maxShared=\(maxShared)"
            if csv { return print(String(decoding: try await client.fetch(.GET, path + "&format=csv"), as: UTF8.self), terminator: "") }
            let answer = try await client.call(.GET, path) as? [String: Any] ?? [:]
            let rows = (answer["accounts"] as? [[String: Any]] ?? []).map { row -> [String: Any] in
                var r = row
                r["findings"] = (row["findings"] as? [String] ?? []).joined(separator: " ")
                return r
            }
            Output.print(options.json ? answer : rows, json: options.json, columns: ["resource", "account", "findings", "policy", "sharedWith"])
            if (answer["summary"] as? [String: Any])?["nonCompliant"] as? Int ?? 0 > 0 { throw ExitCode(1) }
        }
    }

    struct Activity: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Retrievals, resets and logins by user and day.",
            discussion: "From the audit records you may read; days are UTC, both ends included (default: the last 30 days).")
        static let routes = ["GET /reports/activity"]
        @OptionGroup var options: ClientOptions
        @Option(help: "First day, e.g. 2026-11-01.") var from: String?
        @Option(help: "Last day (default today).") var to: String?
        @Flag(help: "Print CSV.") var csv = false
        func run() async throws {
            let client = try options.client()
            var query = [("from", from), ("to", to)].compactMap { k, v in v.map { "\(k)=\(Query.escape($0))" } }
            if csv { query.append("format=csv") }
            let path = "/reports/activity" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            if csv { return print(String(decoding: try await client.fetch(.GET, path), as: UTF8.self), terminator: "") }
            let answer = try await client.call(.GET, path) as? [String: Any] ?? [:]
            Output.print(options.json ? answer : answer["rows"], json: options.json,
                columns: ["day", "user", "retrievals", "resets", "logins", "failedLogins", "refused"])
        }
    }

    struct Schedule: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show, set or stop the scheduled report mail (administrators).",
            discussion: """
                Each recipient (a user with an email address) gets the chosen reports of what it may see, as CSV attachments. \
                Example: custody report schedule --set --report compliance --report expiry --to alice --every-days 7 --at 07:00
                """)
        static let routes = ["GET /settings/report-schedule", "PUT /settings/report-schedule", "DELETE /settings/report-schedule"]
        @OptionGroup var options: ClientOptions
        @Flag(help: "Replace the schedule with the options given.") var set = false
        @Flag(help: "Stop the scheduled report.") var off = false
        @Option(help: "inventory, expiry, compliance or activity (repeat it).") var report: [String] = []
        @Option(help: "A recipient's username (repeat it).") var to: [String] = []
        @Option(help: "HH:MM (24 h).") var at = "07:00"
        @Option(help: "Every N days (the default, 1).") var everyDays: Int?
        @Option(help: "Monthly, on this day (1...31; a short month uses its last day).") var monthly: Int?
        @Option(help: "Once, on this day (YYYY-MM-DD).") var once: String?
        @Option(help: "An IANA time zone (default: the server's).") var timeZone: String?

        func run() async throws {
            let client = try options.client()
            if off {
                _ = try await client.call(.DELETE, "/settings/report-schedule")
            } else if set {
                var schedule: [String: Any] = ["at": at]
                if let monthly {
                    schedule["kind"] = "monthly"
                    schedule["dayOfMonth"] = monthly
                } else if let once {
                    schedule["kind"] = "once"
                    schedule["date"] = once
                } else {
                    schedule["kind"] = "days"
                    schedule["everyDays"] = everyDays ?? 1
                }
                if let timeZone { schedule["timeZone"] = timeZone }
                _ = try await client.call(.PUT, "/settings/report-schedule", json: ["schedule": schedule, "reports": report, "recipients": to])
            }
            Output.print(try await client.call(.GET, "/settings/report-schedule"), json: options.json,
                columns: ["configured", "reports", "recipients", "nextAt", "lastSent"])
        }
    }
}
