import ArgumentParser
import Foundation

extension AccessCommand {
    struct Policy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "policy",
            abstract: "Show, set or remove the access-control rules of an account, a resource or a group.",
            subcommands: [Show.self, Set.self, Remove.self])

        /// Which object: --resource (with --account), or --group.
        struct Target: ParsableArguments {
            @Option(help: "Resource id.") var resource: String?
            @Option(help: "Account id (with --resource).") var account: String?
            @Option(help: "Group id.") var group: String?
            func path() throws -> String {
                switch (resource, account, group) {
                case (let r?, nil, nil): return "/resources/\(r)/access-control"
                case (let r?, let a?, nil): return "/resources/\(r)/accounts/\(a)/access-control"
                case (nil, nil, let g?): return "/groups/\(g)/access-control"
                default: throw ValidationError("give --resource, --resource with --account, or --group")
                }
            }
        }

        struct Show: AsyncParsableCommand, CallsRoutes {
            static let configuration = CommandConfiguration(abstract: "Show the rules that apply (and, on an account, who holds it now).")
            static let routes = ["GET /resources/:rid/access-control", "GET /resources/:rid/accounts/:aid/access-control", "GET /groups/:gid/access-control"]
            @OptionGroup var options: ClientOptions
            @OptionGroup var target: Target
            func run() async throws { Output.print(try await options.client().call(.GET, try target.path()), json: true, columns: []) }
        }

        struct Set: AsyncParsableCommand, CallsRoutes {
            static let configuration = CommandConfiguration(abstract: "Set the rules (administrators and password administrators with manage).",
                discussion: """
                    Example: --approver alice --approver-group ops --approvals 2 --max-minutes 120 --reset-on-checkin \
                    --auto-approve-window mon-fri,08:00-18:00 --time-zone Europe/Paris
                    """)
            static let routes = ["PUT /resources/:rid/access-control", "PUT /resources/:rid/accounts/:aid/access-control", "PUT /groups/:gid/access-control"]
            @OptionGroup var options: ClientOptions
            @OptionGroup var target: Target
            @Flag(help: "Store the rules switched off (an account then inherits nothing).") var disabled = false
            @Option(name: .customLong("approver"), help: "An approving user (repeat).") var approvers: [String] = []
            @Option(name: .customLong("approver-group"), help: "An approving user group (repeat).") var approverGroups: [String] = []
            @Option(name: .customLong("approvals"), help: "1 or 2 approvals from distinct people.") var approvals: Int?
            @Option(help: "The longest checkout, in minutes (default 480).") var maxMinutes: Int?
            @Option(help: "How long a request waits for approval, and an approved one for its checkout (default 1440).") var pendingMinutes: Int?
            @Flag(help: "Let several people hold the password at once.") var shared = false
            @Flag(help: "Reset the password when it is checked in.") var resetOnCheckin = false
            @Flag(help: "Reset the accounts a share covered when it ends (resource or group).") var resetOnShareRemoval = false
            @Flag(help: "Require a ticket id with each request.") var requireTicket = false
            @Flag(help: "Approve every request at once.") var autoApprove = false
            @Option(name: .customLong("auto-approve-window"), help: "DAYS,HH:MM-HH:MM, e.g. mon-fri,08:00-18:00 (repeat).") var windows: [String] = []
            @Option(help: "IANA time zone of the windows (default UTC).") var timeZone: String?
            @Option(name: .customLong("exempt"), help: "A user whose requests are approved at once (repeat).") var exempt: [String] = []
            @Option(name: .customLong("exempt-group"), help: "A user group exempt from approval (repeat).") var exemptGroups: [String] = []

            func body() throws -> [String: Any] {
                var b: [String: Any] = ["enabled": !disabled, "approvers": ["users": approvers, "userGroups": approverGroups],
                    "exclusive": !shared, "resetOnCheckin": resetOnCheckin, "resetOnShareRemoval": resetOnShareRemoval,
                    "requireTicket": requireTicket, "exempt": ["users": exempt, "userGroups": exemptGroups]]
                b["approvalsRequired"] = approvals
                b["maxMinutes"] = maxMinutes
                b["pendingMinutes"] = pendingMinutes
                if autoApprove || !windows.isEmpty {
                    var auto: [String: Any] = ["always": autoApprove, "windows": try windows.map(Self.window)]
                    auto["timeZone"] = timeZone
                    b["autoApprove"] = auto
                }
                return b
            }

            /// `mon-fri,08:00-18:00`, `sat,10:00-12:00` or `08:00-18:00` (every day).
            static func window(_ text: String) throws -> [String: Any] {
                let parts = text.split(separator: ",").map(String.init)
                guard let hours = parts.last?.split(separator: "-").map(String.init), hours.count == 2, parts.count <= 2 else {
                    throw ValidationError("--auto-approve-window takes DAYS,HH:MM-HH:MM, e.g. mon-fri,08:00-18:00")
                }
                var days: [String] = []
                if parts.count == 2 {
                    let names = AutoApprove.Window.dayNames
                    let span = parts[0].split(separator: "-").map(String.init)
                    guard (1...2).contains(span.count), let first = names.firstIndex(of: span[0]), let last = names.firstIndex(of: span[span.count - 1]) else {
                        throw ValidationError("days are sun, mon, tue, wed, thu, fri, sat, or a range such as mon-fri")
                    }
                    var i = first
                    while true {
                        days.append(names[i])
                        if i == last { break }
                        i = (i + 1) % 7
                    }
                }
                return ["days": days, "from": hours[0], "to": hours[1]]
            }

            func run() async throws {
                Output.print(try await options.client().call(.PUT, try target.path(), json: try body()), json: true, columns: [])
            }
        }

        struct Remove: AsyncParsableCommand, CallsRoutes {
            static let configuration = CommandConfiguration(abstract: "Remove the rules set on this object; it inherits again.")
            static let routes = ["DELETE /resources/:rid/access-control", "DELETE /resources/:rid/accounts/:aid/access-control", "DELETE /groups/:gid/access-control"]
            @OptionGroup var options: ClientOptions
            @OptionGroup var target: Target
            func run() async throws {
                _ = try await options.client().call(.DELETE, try target.path())
                print("removed")
            }
        }
    }
}
