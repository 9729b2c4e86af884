import ArgumentParser
import Foundation

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Users and your own password.",
        subcommands: [List.self, Show.self, Create.self, Update.self, Delete.self, ChangePassword.self, ResetTOTP.self])
    static let columns = ["id", "username", "role", "superAdmin", "mustChangePassword"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users by user name (administrators).")
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "User names starting with this, whatever their case.") var name: String?
        @Option(help: "administrator, passwordAdministrator, passwordAuditor or passwordUser.") var role: String?
        func run() async throws {
            let path = Query.path("/users", [("name", name), ("role", role)])
            Output.print(try await list.rows(try options.client(), path), json: options.json, columns: UserCommand.columns)
        }
    }
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; the initial password is read from the terminal or standard input.")
        @OptionGroup var options: ClientOptions
        @Option var username: String
        @Option(help: "administrator, passwordAdministrator, passwordUser or passwordAuditor") var role: String
        @Flag var superAdmin = false
        @Option var email: String?
        func run() async throws {
            let password = try readSecret(prompt: "Initial password for \(username): ")
            var body: [String: Any] = ["username": username, "password": password, "role": role, "superAdmin": superAdmin]
            body["email"] = email
            Output.print(try await options.client().call(.POST, "/users", json: body), json: options.json, columns: UserCommand.columns)
        }
    }
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user who owns nothing (administrators).")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/users/\(id)"); print("deleted") }
    }
    struct ResetTOTP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-totp",
            abstract: "Turn off a user's two-factor sign-in, e.g. after a lost phone (administrators); they may set it up again.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The user's id (custody user list).") var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/users/\(id)/totp"); print("two-factor sign-in is off for \(id)") }
    }
    struct ChangePassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "password",
            abstract: "Change your own password (current, then new, on two lines of standard input or at the terminal).")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let current = try readSecret(prompt: "Current password: ")
            let new = try readSecret(prompt: "New password: ")
            _ = try await options.client().call(.POST, "/auth/password", json: ["currentPassword": current, "newPassword": new])
            print("password changed")
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "API tokens.", subcommands: [List.self, Create.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your API tokens.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.print(try await options.client().call(.GET, "/tokens"), json: options.json, columns: ["id", "name", "expiresAt", "revokedAt"])
        }
    }
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token (printed once).")
        @OptionGroup var options: ClientOptions
        @Option var name: String
        @Option(help: "Expiry, ISO 8601 (e.g. 2027-01-01T00:00:00Z).") var expiresAt: String?
        func run() async throws {
            var body: [String: Any] = ["name": name]
            body["expiresAt"] = expiresAt
            Output.print(try await options.client().call(.POST, "/tokens", json: body), json: options.json, columns: ["id", "name", "token"])
        }
    }
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke one of your API tokens.")
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/tokens/\(id)"); print("revoked") }
    }
}

struct ShareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "share", abstract: "Share resources, accounts and groups.",
        subcommands: [Show.self, Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the shares of a resource, an account (--account) or a group (--group).")
        @OptionGroup var options: ClientOptions
        @Option var resource: String?
        @Option var account: String?
        @Option var group: String?
        @Option(help: "NAME=view|modify|manage, repeatable.") var user: [String] = []
        @Option(help: "GROUP=view|modify|manage, repeatable.") var userGroup: [String] = []
        func run() async throws {
            func pairs(_ items: [String], key: String) throws -> [[String: String]] {
                try items.map {
                    let parts = $0.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw ValidationError("expected NAME=permission, got \($0)") }
                    return [key: parts[0], "permission": parts[1]]
                }
            }
            let body: [String: Any] = ["users": try pairs(user, key: "username"), "userGroups": try pairs(userGroup, key: "name")]
            _ = try await options.client().call(.PUT, try ShareCommand.path(resource, account, group), json: body)
            print("shares replaced")
        }
    }
}

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "group", abstract: "Resource groups.",
        subcommands: [List.self, Show.self, Create.self, Resources.self, Owner.self, Delete.self])
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List resource groups you can see, by name.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "Names starting with this, whatever their case.") var name: String?
        func run() async throws {
            Output.print(try await list.rows(try options.client(), Query.path("/groups", [("name", name)])), json: options.json,
                columns: ["id", "name", "owner"])
        }
    }
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a resource group of resources.")
        @OptionGroup var options: ClientOptions
        @Option var name: String
        @Option(help: "Resource id, repeatable.") var resource: [String] = []
        func run() async throws {
            Output.print(try await options.client().call(.POST, "/groups", json: ["name": name, "resourceIds": resource]), json: options.json,
                columns: ["id", "name", "owner"])
        }
    }
}

struct AuditList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show audit records from a running server, newest first.",
        discussion: "Filters combine: --operation retrieve_password --user alice --since 2026-01-31T00:00:00Z.")
    @OptionGroup var options: ClientOptions
    @Option var resourceId: String?
    @Option var accountId: String?
    @Option(help: "Who did it.") var user: String?
    @Option(help: "An operation, e.g. retrieve_password, remote_reset, login.") var operation: String?
    @Option(help: "ISO 8601 time.") var since: String?
    @OptionGroup var list: ListOptions
    func run() async throws {
        let path = Query.path("/audit", [("resourceId", resourceId), ("accountId", accountId), ("user", user), ("operation", operation),
            ("since", since)])
        var page = list
        if page.limit == nil { page.limit = 50 }  // the trail can be long: the newest 50 unless asked
        Output.print(try await page.rows(try options.client(), path, pageSize: 10000), json: options.json,
            columns: ["id", "at", "user", "ip", "operation", "resource", "account", "outcome"])
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import resources and accounts from a CSV file.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "CSV with a header row; resourceName and accountName are required.") var file: String
    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let out = try await options.client().call(.POST, "/import/resources", raw: (data, "text/csv"))
        Output.print((out as? [String: Any])?["results"], json: options.json, columns: ["line", "outcome", "message"])
    }
}

struct ResetConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset-config", abstract: "How Custody reaches a resource's target.",
        subcommands: [Set.self, Show.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the reset configuration from a JSON file (the body of PUT /resources/{rid}/reset-config).")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Argument(help: "JSON file, e.g. {\"mode\":\"agentless\",\"protocol\":\"ssh\",\"loginAccount\":\"admin\",\"elevation\":\"sudo\"}") var file: String
        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), let body = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("\(file) is not a JSON object")
            }
            Output.print(try await options.client().call(.PUT, "/resources/\(resource)/reset-config", json: body), json: true, columns: [])
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a resource's reset configuration (never a password).")
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/resources/\(resource)/reset-config"), json: true, columns: []) }
    }
}
