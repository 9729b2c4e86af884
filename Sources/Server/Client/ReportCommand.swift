import ArgumentParser
import Foundation

/// Reports over what the caller can see.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Reports over the accounts you can see.",
        subcommands: [Expiry.self])

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
}
