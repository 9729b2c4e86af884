import ArgumentParser
import Foundation

struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "access",
        abstract: "Access control: ask for a password, approve, check out, check in, and the rules.",
        discussion: """
            Under access control a password is read only by the person who holds it: ask (`request`), wait for \
            an approver (`list --awaiting`, `approve`), `checkout`, read it with `custody password get`, and \
            `checkin` when done. The server checks it in at the end of the window, and resets it when the rules \
            say so. `policy` shows and sets the rules on an account, a resource or a group.
            """,
        subcommands: [Request.self, List.self, Show.self, Approve.self, Reject.self, Checkout.self, Checkin.self, Policy.self])
    static let columns = ["id", "state", "resource", "account", "requester", "minutes", "until", "reason"]

    struct Request: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Ask for an account's password for a time; prints the request.")
        static let routes = ["POST /resources/:rid/accounts/:aid/access-requests"]
        @OptionGroup var options: ClientOptions
        @Option(help: "Resource id.") var resource: String
        @Option(help: "Account id.") var account: String
        @Option(help: "Why you need it (audited, shown to approvers).") var reason: String
        @Option(help: "Minutes you need it for (default: the rules' maximum).") var minutes: Int?
        @Option var ticketId: String?
        func run() async throws {
            var body: [String: Any] = ["reason": reason]
            body["minutes"] = minutes
            body["ticketId"] = ticketId
            let out = try await options.client().call(.POST, "/resources/\(resource)/accounts/\(account)/access-requests", json: body)
            Output.print(out, json: options.json, columns: AccessCommand.columns)
        }
    }

    struct List: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "List requests: yours (--mine), those awaiting your approval (--awaiting), or both kinds.")
        static let routes = ["GET /access-requests"]
        @OptionGroup var options: ClientOptions
        @OptionGroup var paging: ListOptions
        @Flag(help: "Only the requests you made.") var mine = false
        @Flag(help: "Only pending requests you may approve.") var awaiting = false
        @Option(help: "pending, approved, rejected, checkedOut, checkedIn or expired.") var state: String?
        @Option(help: "Only this account's requests (id).") var account: String?
        func validate() throws { if mine && awaiting { throw ValidationError("give --mine or --awaiting, not both") } }
        func run() async throws {
            let path = Query.path("/access-requests", [("mine", mine ? "true" : nil), ("awaiting", awaiting ? "me" : nil), ("state", state),
                ("accountId", account)])
            Output.print(try await paging.rows(try options.client(), path), json: options.json, columns: AccessCommand.columns)
        }
    }

    struct Show: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show one request with its approvals.")
        static let routes = ["GET /access-requests/:qid"]
        @OptionGroup var options: ClientOptions
        @Argument(help: "Request id.") var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/access-requests/\(id)"), json: true, columns: []) }
    }

    /// POSTs one step of a request and prints what it became.
    static func step(_ options: ClientOptions, _ id: String, _ name: String, _ body: [String: Any]) async throws {
        let out = try await options.client().call(.POST, "/access-requests/\(id)/\(name)", json: body)
        Output.print(out, json: options.json, columns: AccessCommand.columns + ["taskId", "resetProblem"])
    }

    struct Approve: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Approve a request you are an approver of (never your own).")
        static let routes = ["POST /access-requests/:qid/approve"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option var comment: String?
        func run() async throws { try await AccessCommand.step(options, id, "approve", comment.map { ["comment": $0] } ?? [:]) }
    }

    struct Reject: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Reject a request you are an approver of.")
        static let routes = ["POST /access-requests/:qid/reject"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option var comment: String?
        func run() async throws { try await AccessCommand.step(options, id, "reject", comment.map { ["comment": $0] } ?? [:]) }
    }

    struct Checkout: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Check out the password of your approved request; then `custody password get`.")
        static let routes = ["POST /access-requests/:qid/checkout"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { try await AccessCommand.step(options, id, "checkout", [:]) }
    }

    struct Checkin: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Give the password back (or, as an administrator, take it back with --reason).",
            discussion: "When the rules reset on check-in, the answer names the reset's task (`custody task show`).")
        static let routes = ["POST /access-requests/:qid/checkin"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Required when you are not the holder.") var reason: String?
        func run() async throws { try await AccessCommand.step(options, id, "checkin", reason.map { ["reason": $0] } ?? [:]) }
    }
}
