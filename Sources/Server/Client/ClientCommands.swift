import ArgumentParser
import Foundation
import NIOHTTP1

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login",
        abstract: "Log in and print a session token (the password is read from the terminal or standard input).")
    @OptionGroup var options: ClientOptions
    @Option(help: "User name.") var username: String
    @Option(help: "The one-time code from your authenticator app, when two-factor sign-in is on.") var otp: String?
    func run() async throws {
        let password = try readSecret(prompt: "Password: ")
        var body = ["username": username, "password": password]
        body["otp"] = otp
        let out = try await options.client().call(.POST, "/auth/login", json: body)
        let dict = out as? [String: Any] ?? [:]
        if options.json { Output.print(out, json: true, columns: []) } else {
            print("export CUSTODY_TOKEN=\(dict["token"] ?? "")")
            if dict["mustChangePassword"] as? Bool == true { print("# you must change your password: custody user password") }
        }
    }
}

struct ResourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resource", abstract: "Resources (hosts, devices, directories, databases).",
        subcommands: [List.self, Create.self, Show.self, Update.self, Owner.self, Delete.self])
    static let columns = ["id", "name", "dnsName", "type", "owner"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the resources you can see, by name.",
            discussion: "Filters combine: --name web --type Linux --group GROUP_ID --owner alice.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "Names starting with this, whatever their case.") var name: String?
        @Option(help: "A resource type, e.g. Linux.") var type: String?
        @Option(help: "A resource group's id.") var group: String?
        @Option(help: "The owner's user name.") var owner: String?
        func run() async throws {
            let path = Query.path("/resources", [("name", name), ("type", type), ("groupId", group), ("owner", owner)])
            Output.print(try await list.rows(try options.client(), path), json: options.json, columns: ResourceCommand.columns)
        }
    }
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a resource you own.")
        @OptionGroup var options: ClientOptions
        @Option var name: String
        @Option(help: "Host name or IP address.") var dnsName: String
        @Option(help: "Resource type, e.g. Linux (custody resource-types lists them via the API).") var type: String
        @Option var description: String?
        @Option var department: String?
        @Option var location: String?
        @Option var policy: String?
        func run() async throws {
            var body: [String: Any] = ["name": name, "dnsName": dnsName, "type": type]
            body["description"] = description; body["department"] = department; body["location"] = location
            body["passwordPolicy"] = policy
            Output.print(try await options.client().call(.POST, "/resources", json: body), json: options.json, columns: ResourceCommand.columns)
        }
    }
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a resource.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/resources/\(id)"), json: true, columns: []) }
    }
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a resource with its accounts and passwords (manage).")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/resources/\(id)"); print("deleted") }
    }
}

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "account", abstract: "Accounts on a resource.",
        subcommands: [List.self, Create.self, Show.self, Update.self, Delete.self])
    static let columns = ["id", "loginName", "syncStatus", "passwordKnown", "lastChangedAt"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a resource's accounts (never their passwords), by login name.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option var resource: String
        @Option(help: "Login names starting with this, whatever their case.") var name: String?
        @Option(help: "inSync, outOfSync, unreachable, neverChecked, missing …") var syncStatus: String?
        func run() async throws {
            let path = Query.path("/resources/\(resource)/accounts", [("name", name), ("syncStatus", syncStatus)])
            Output.print(try await list.rows(try options.client(), path), json: options.json, columns: AccountCommand.columns)
        }
    }
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account; its password is read from the terminal or standard input.")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Option var loginName: String
        @Option var description: String?
        func run() async throws {
            let password = try readSecret(prompt: "Password for \(loginName): ")
            var body: [String: Any] = ["loginName": loginName, "password": password]
            body["description"] = description
            Output.print(try await options.client().call(.POST, "/resources/\(resource)/accounts", json: body), json: options.json,
                columns: AccountCommand.columns)
        }
    }
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account (never its password).")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Argument var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/resources/\(resource)/accounts/\(id)"), json: true, columns: []) }
    }
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an account and its password history (manage).")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/resources/\(resource)/accounts/\(id)"); print("deleted") }
    }
}

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "password", abstract: "Retrieve or change an account's password.",
        subcommands: [Get.self, Set.self, Reset.self, Verify.self, History.self])

    struct History: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show an account's password history: when, who, how, from where.",
            discussion: "--reveal --reason TEXT also prints the old passwords (those who may retrieve the current one; audited).")
        static let routes = ["GET /resources/:rid/accounts/:aid/history"]
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Option var account: String
        @Flag(help: "Include the passwords.") var reveal = false
        @Option var reason: String?
        @Option var ticketId: String?
        func run() async throws {
            let path = Query.path("/resources/\(resource)/accounts/\(account)/history",
                [("reveal", reveal ? "true" : nil), ("reason", reason), ("ticketId", ticketId)])
            let answer = try await options.client().call(.GET, path) as? [String: Any]
            Output.print(answer?["versions"], json: options.json,
                columns: ["createdAt", "current", "by", "how", "ip", "taskId"] + (reveal ? ["password"] : []))
        }
    }

    /// Queues a task through `path` and follows it.
    static func queue(_ options: ClientOptions, _ method: HTTPMethod, _ path: String, json: [String: Any]?, wait: Int) async throws {
        let client = try options.client()
        let out = try await client.call(method, path, json: json) as? [String: Any]
        guard let id = out?["taskId"] as? String else { throw ClientError(description: "the server returned no task") }
        try await follow(client, id, wait: wait, json: options.json)
    }

    /// Prints the task, waiting for its end when asked.
    static func follow(_ client: APIClient, _ taskID: String, wait: Int, json: Bool) async throws {
        var task = try await client.call(.GET, "/tasks/\(taskID)" + (wait > 0 ? "?wait=\(min(wait, 60))" : "")) as? [String: Any] ?? [:]
        var left = wait - 60
        while left > 0, !["succeeded", "failed", "cancelled"].contains(task["state"] as? String ?? "") {
            task = try await client.call(.GET, "/tasks/\(taskID)?wait=\(min(left, 60))") as? [String: Any] ?? [:]
            left -= 60
        }
        if json { Output.print(task, json: true, columns: []) } else {
            let result = task["result"] as? [String: Any]
            print("task \(taskID): \(task["state"] ?? "?")" + (result.map { " (\($0["code"] ?? "")): \($0["message"] ?? "")" } ?? ""))
        }
        if task["state"] as? String == "failed" { throw ExitCode(1) }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the password on the target (remote reset); prints the task.",
            discussion: "Without --new-password-stdin a password is generated from the resource's policy. Use --wait to follow the task.")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Option var account: String
        @Flag(help: "Read the new password from standard input (or the terminal) instead of generating one.") var newPasswordStdin = false
        @Option var reason: String?
        @Option var ticketId: String?
        @Option(help: "Seconds to wait for the task to end (0: do not wait).") var wait: Int = 0
        func run() async throws {
            var body: [String: Any] = ["resetType": "remote"]
            if newPasswordStdin { body["newPassword"] = try readSecret(prompt: "New password: ") }
            body["reason"] = reason
            body["ticketId"] = ticketId
            try await PasswordCommand.queue(options, .PUT, "/resources/\(resource)/accounts/\(account)/password", json: body, wait: wait)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the stored password on the target; prints the task.")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Option var account: String
        @Option(help: "Seconds to wait for the task to end (0: do not wait).") var wait: Int = 0
        func run() async throws {
            try await PasswordCommand.queue(options, .POST, "/resources/\(resource)/accounts/\(account)/verify", json: nil, wait: wait)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the password (audited).")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Option var account: String
        @Option var reason: String?
        @Option var ticketId: String?
        func run() async throws {
            var q: [String] = []
            let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))
            if let reason { q.append("reason=" + (reason.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")) }
            if let ticketId { q.append("ticketId=" + (ticketId.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")) }
            let out = try await options.client().call(.GET, "/resources/\(resource)/accounts/\(account)/password" + (q.isEmpty ? "" : "?" + q.joined(separator: "&")))
            let answer = out as? [String: Any] ?? [:]
            if options.json { return Output.print(out, json: true, columns: []) }
            guard let password = answer["password"] as? String else {
                let n = (answer["candidates"] as? [Any])?.count ?? 0
                FileHandle.standardError.write(Data("no password of this account is known yet; an unresolved reset left \(n) candidate(s) (--json shows them)\n".utf8))
                throw ExitCode(1)
            }
            print(password)
        }
    }
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the password in the vault (--type local).",
            discussion: "Without --generate the new password is read from the terminal or standard input; it never goes in argv.")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Option var account: String
        @Option(help: "local (vault only) or remote (on the target).") var type: String = "local"
        @Flag(help: "Generate the password from the resource's policy.") var generate = false
        @Option var reason: String?
        func run() async throws {
            var body: [String: Any] = ["resetType": type]
            if !generate { body["newPassword"] = try readSecret(prompt: "New password: ") }
            body["reason"] = reason
            Output.print(try await options.client().call(.PUT, "/resources/\(resource)/accounts/\(account)/password", json: body),
                json: true, columns: [])
        }
    }
}

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Reset and verify tasks.",
        subcommands: [Show.self, List.self, Abandon.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task; --wait follows it to its end.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Seconds to wait for the task to end.") var wait: Int = 0
        func run() async throws { try await PasswordCommand.follow(try options.client(), id, wait: wait, json: options.json) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Your tasks, newest first (with --all, those of every account you can see).")
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "queued, running, succeeded, failed, unknown or cancelled") var state: String?
        @Flag(help: "Also the tasks of every account you can see, not only yours.") var all = false
        func run() async throws {
            let path = Query.path("/tasks", [("mine", all ? "false" : "true"), ("state", state)])
            Output.print(try await list.rows(try options.client(), path), json: options.json, columns: ["id", "kind", "state", "accountId", "createdAt"])
        }
    }
}
