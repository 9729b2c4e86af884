import ArgumentParser
import Foundation

/// Editing resources, accounts and groups, their owners and shares.
extension ResourceCommand {
    struct Update: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Edit a resource's details (manage); only what is given changes.")
        static let routes = ["PATCH /resources/:rid"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option var name: String?
        @Option var dnsName: String?
        @Option var type: String?
        @Option var description: String?
        @Option var department: String?
        @Option var location: String?
        @Option var url: String?
        @Option(help: "A password policy's name (custody policy list).") var passwordPolicy: String?
        func run() async throws {
            var body: [String: Any] = [:]
            (body["name"], body["dnsName"], body["type"], body["description"]) = (name, dnsName, type, description)
            (body["department"], body["location"], body["url"], body["passwordPolicy"]) = (department, location, url, passwordPolicy)
            guard !body.isEmpty else { throw ValidationError("give at least one field to change") }
            Output.print(try await options.client().call(.PATCH, "/resources/\(id)", json: body), json: true, columns: [])
        }
    }

    struct Owner: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Give a resource to another administrator or password administrator.")
        static let routes = ["POST /resources/:rid/owner"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "The new owner's user name.") var username: String
        func run() async throws {
            _ = try await options.client().call(.POST, "/resources/\(id)/owner", json: ["username": username])
            print("owned by \(username)")
        }
    }
}

extension AccountCommand {
    struct Update: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Edit an account's details (manage); never its password (custody password set).")
        static let routes = ["PATCH /resources/:rid/accounts/:aid"]
        @OptionGroup var options: ClientOptions
        @Option var resource: String
        @Argument var id: String
        @Option var loginName: String?
        @Option var description: String?
        @Option var notes: String?
        func run() async throws {
            var body: [String: Any] = [:]
            (body["loginName"], body["description"], body["notes"]) = (loginName, description, notes)
            guard !body.isEmpty else { throw ValidationError("give --login-name, --description or --notes") }
            Output.print(try await options.client().call(.PATCH, "/resources/\(resource)/accounts/\(id)", json: body), json: true, columns: [])
        }
    }
}

extension ShareCommand {
    struct Show: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "List the shares of a resource, an account (--account) or a group (--group).")
        static let routes = ["GET /resources/:rid/shares", "GET /resources/:rid/accounts/:aid/shares", "GET /groups/:gid/shares"]
        @OptionGroup var options: ClientOptions
        @Option var resource: String?
        @Option var account: String?
        @Option var group: String?
        func run() async throws {
            Output.print(try await options.client().call(.GET, try ShareCommand.path(resource, account, group)), json: true, columns: [])
        }
    }

    /// The shares of a resource, one of its accounts, or a group.
    static func path(_ resource: String?, _ account: String?, _ group: String?) throws -> String {
        switch (resource, account, group) {
        case (let r?, nil, nil): return "/resources/\(r)/shares"
        case (let r?, let a?, nil): return "/resources/\(r)/accounts/\(a)/shares"
        case (nil, nil, let g?): return "/groups/\(g)/shares"
        default: throw ValidationError("give --resource, --resource with --account, or --group")
        }
    }
}

extension GroupCommand {
    struct Show: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show a resource group and its resources.")
        static let routes = ["GET /groups/:gid"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/groups/\(id)"), json: true, columns: []) }
    }
    struct Resources: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Replace a group's resources (manage).")
        static let routes = ["PUT /groups/:gid/resources"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Resource id, repeatable (none empties the group).") var resource: [String] = []
        func run() async throws {
            Output.print(try await options.client().call(.PUT, "/groups/\(id)/resources", json: ["resourceIds": resource]), json: true, columns: [])
        }
    }
    struct Delete: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Delete a group (its resources stay).")
        static let routes = ["DELETE /groups/:gid"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/groups/\(id)"); print("deleted") }
    }
    struct Owner: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Give a group to another administrator or password administrator.")
        static let routes = ["POST /groups/:gid/owner"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "The new owner's user name.") var username: String
        func run() async throws {
            _ = try await options.client().call(.POST, "/groups/\(id)/owner", json: ["username": username])
            print("owned by \(username)")
        }
    }
}
