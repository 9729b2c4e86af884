import ArgumentParser
import Foundation

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login",
        abstract: "Log in and print a session token (the password is read from the terminal or standard input).")
    @OptionGroup var options: ClientOptions
    @Option(help: "User name.") var username: String
    func run() async throws {
        let password = try readSecret(prompt: "Password: ")
        let out = try await options.client().call(.POST, "/auth/login", json: ["username": username, "password": password])
        let dict = out as? [String: Any] ?? [:]
        if options.json { Output.print(out, json: true, columns: []) } else {
            print("export CUSTODY_TOKEN=\(dict["token"] ?? "")")
            if dict["mustChangePassword"] as? Bool == true { print("# you must change your password: custody user password") }
        }
    }
}

struct ResourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resource", abstract: "Resources (hosts, devices, directories, databases).",
        subcommands: [List.self, Create.self, Show.self, Delete.self])
    static let columns = ["id", "name", "dnsName", "type", "owner"]

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        func run() async throws { Output.print(try await options.client().call(.GET, "/resources"), json: options.json, columns: ResourceCommand.columns) }
    }
    struct Create: AsyncParsableCommand {
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
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/resources/\(id)"), json: true, columns: []) }
    }
    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/resources/\(id)"); print("deleted") }
    }
}

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "account", abstract: "Accounts on a resource.",
        subcommands: [List.self, Create.self, Show.self, Delete.self])
    static let columns = ["id", "loginName", "syncStatus", "lastChangedAt"]

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        func run() async throws {
            Output.print(try await options.client().call(.GET, "/resources/\(resource)/accounts"), json: options.json, columns: AccountCommand.columns)
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
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Argument var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/resources/\(resource)/accounts/\(id)"), json: true, columns: []) }
    }
    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/resources/\(resource)/accounts/\(id)"); print("deleted") }
    }
}

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "password", abstract: "Retrieve or change an account's password.",
        subcommands: [Get.self, Set.self])

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
            if options.json { Output.print(out, json: true, columns: []) } else { print((out as? [String: Any])?["password"] ?? "") }
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
