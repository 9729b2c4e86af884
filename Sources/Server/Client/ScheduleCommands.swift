import ArgumentParser
import Foundation

/// Rotation schedules and runs, and the integrity check.
struct RotationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotation", abstract: "A resource group's scheduled password rotation.",
        subcommands: [Show.self, Set.self, Remove.self, Run.self, Runs.self])

    struct Show: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show a group's rotation schedule and its next run.")
        static let routes = ["GET /groups/:gid/rotation"]
        @OptionGroup var options: ClientOptions
        @Option var group: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/groups/\(group)/rotation"), json: true, columns: []) }
    }
    struct Set: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Save a group's rotation from a JSON file (the body of PUT /groups/{gid}/rotation).",
            discussion: """
                Example: {"schedule": {"kind": "days", "everyDays": 30, "at": "02:00", "timeZone": "Europe/Paris", \
                "allowedHours": {"from": "01:00", "to": "05:00"}}, "passwordChoice": "unique"}. Kinds: once (date), days \
                (everyDays), monthly (dayOfMonth), never.
                """)
        static let routes = ["PUT /groups/:gid/rotation"]
        @OptionGroup var options: ClientOptions
        @Option var group: String
        @Argument(help: "JSON file.") var file: String
        func run() async throws {
            Output.print(try await options.client().call(.PUT, "/groups/\(group)/rotation", json: try readJSONObject(file)), json: true, columns: [])
        }
    }
    struct Remove: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Remove a group's rotation schedule.")
        static let routes = ["DELETE /groups/:gid/rotation"]
        @OptionGroup var options: ClientOptions
        @Option var group: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/groups/\(group)/rotation"); print("removed") }
    }
    struct Run: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Rotate a group's passwords now; --wait follows the run, printing its progress.")
        static let routes = ["POST /groups/:gid/rotation/run", "GET /rotation-runs/:id"]
        @OptionGroup var options: ClientOptions
        @Option var group: String
        @Option(help: "Seconds to follow the run (0: print its id and return).") var wait: Int = 0
        func run() async throws {
            let client = try options.client()
            let started = try await client.call(.POST, "/groups/\(group)/rotation/run") as? [String: Any] ?? [:]
            guard let id = started["runId"] as? String else { throw ClientError(description: "the server returned no run") }
            try await RunProgress.follow(client, "/rotation-runs/\(id)", id: id, wait: wait, json: options.json)
        }
    }
    struct Runs: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(commandName: "runs",
            abstract: "List rotation runs newest first, or show one run (its progress and each account's result).",
            discussion: """
                Without an id: the runs of the groups you can see (--group: one group's), with their counts over the \
                accounts you can see. With an id: that run; --wait follows it until it ends.
                """)
        static let routes = ["GET /rotation-runs", "GET /rotation-runs/:id"]
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Argument(help: "A run's id (omit to list runs).") var id: String?
        @Option(help: "Only this group's runs (its id).") var group: String?
        @Option(help: "manual or schedule.") var trigger: String?
        @Option(help: "Seconds to follow the run until it ends.") var wait: Int = 0
        func run() async throws {
            let client = try options.client()
            if let id { return try await RunProgress.follow(client, "/rotation-runs/\(id)", id: id, wait: wait, json: options.json) }
            let rows = try await list.rows(client, Query.path("/rotation-runs", [("groupId", group), ("trigger", trigger)]), pageSize: 100)
            RunProgress.printList(rows, json: options.json, group: true)
        }
    }
}

struct IntegrityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "integrity",
        abstract: "The integrity check: does every account's stored password still log in on its target?",
        subcommands: [Run.self, Show.self, Runs.self, Report.self, Settings.self])

    struct Run: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Run the integrity check now (administrators); --wait follows it, printing its progress.")
        static let routes = ["POST /integrity/run", "GET /integrity-runs/:id"]
        @OptionGroup var options: ClientOptions
        @Option(help: "Seconds to follow the run (0: print its id and return).") var wait: Int = 0
        func run() async throws {
            let client = try options.client()
            let started = try await client.call(.POST, "/integrity/run") as? [String: Any] ?? [:]
            guard let id = started["runId"] as? String else { throw ClientError(description: "the server returned no run") }
            try await RunProgress.follow(client, "/integrity-runs/\(id)", id: id, wait: wait, json: options.json)
        }
    }
    struct Show: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show an integrity run: its progress and the results you may see.")
        static let routes = ["GET /integrity-runs/:id"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Seconds to follow the run until it ends.") var wait: Int = 0
        func run() async throws { try await RunProgress.follow(try options.client(), "/integrity-runs/\(id)", id: id, wait: wait, json: options.json) }
    }
    struct Runs: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(commandName: "runs",
            abstract: "List integrity runs newest first, with their counts over the accounts you can see.")
        static let routes = ["GET /integrity-runs"]
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "manual or nightly.") var trigger: String?
        func run() async throws {
            let rows = try await list.rows(try options.client(), Query.path("/integrity-runs", [("trigger", trigger)]), pageSize: 100)
            RunProgress.printList(rows, json: options.json, group: false)
        }
    }
    struct Report: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "The Password Integrity report: each account's last result (--csv for a file).")
        static let routes = ["GET /reports/integrity"]
        @OptionGroup var options: ClientOptions
        @Flag(help: "Print CSV.") var csv = false
        func run() async throws {
            let client = try options.client()
            if csv { return print(String(decoding: try await client.fetch(.GET, "/reports/integrity?format=csv"), as: UTF8.self), terminator: "") }
            let answer = try await client.call(.GET, "/reports/integrity") as? [String: Any] ?? [:]
            Output.print(options.json ? answer : answer["accounts"], json: options.json,
                columns: ["resource", "account", "status", "lastVerifiedAt", "lastChangedAt"])
        }
    }
    struct Settings: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show, or change with --daily-at and --time-zone, when the nightly check runs.")
        static let routes = ["GET /settings/integrity", "PUT /settings/integrity"]
        @OptionGroup var options: ClientOptions
        @Option(help: "HH:MM (24 h).") var dailyAt: String?
        @Option(help: "An IANA time zone.") var timeZone: String?
        func run() async throws {
            let client = try options.client()
            if dailyAt != nil || timeZone != nil {
                var body: [String: Any] = [:]
                (body["dailyAt"], body["timeZone"]) = (dailyAt, timeZone)
                _ = try await client.call(.PUT, "/settings/integrity", json: body)
            }
            Output.print(try await client.call(.GET, "/settings/integrity"), json: true, columns: [])
        }
    }
}

/// Following a rotation or integrity run: one progress line each time it moves, then the summary.
enum RunProgress {
    /// A list of runs: JSON as the server sent it, or a table with the counts in one column.
    static func printList(_ rows: [Any], json: Bool, group: Bool) {
        if json { return Output.print(rows, json: true, columns: []) }
        let flat = rows.map { row -> [String: Any] in
            var r = row as? [String: Any] ?? [:]
            let s = r["summary"] as? [String: Any] ?? [:]
            r["result"] = ["succeeded", "failed", "skipped", "pending"].map { "\(s[$0] ?? 0) \($0)" }.joined(separator: ", ")
            return r
        }
        Output.print(flat, json: false, columns: ["startedAt", "id"] + (group ? ["group"] : []) + ["trigger", "requestedBy", "state", "result"])
    }

    static func follow(_ client: APIClient, _ path: String, id: String, wait: Int, json: Bool) async throws {
        let end = Date().addingTimeInterval(Double(wait))
        var last = ""
        while true {
            let run = try await client.call(.GET, path) as? [String: Any] ?? [:]
            let summary = run["summary"] as? [String: Any] ?? [:]
            let line = ["total", "succeeded", "failed", "skipped", "pending"].map { "\($0) \(summary[$0] ?? 0)" }.joined(separator: ", ")
            let state = run["state"] as? String ?? "?"
            if state == "finished" || Date() >= end {
                if json { Output.print(run, json: true, columns: []) } else { print("run \(id): \(state): \(line)") }
                if state == "finished", (summary["failed"] as? Int ?? 0) > 0 { throw ExitCode(1) }
                return
            }
            if line != last && !json { FileHandle.standardError.write(Data("run \(id): \(state): \(line)\n".utf8)) }
            last = line
            try await Task.sleep(for: .seconds(1))
        }
    }
}
