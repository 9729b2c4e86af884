import ArgumentParser
import Foundation

/// Password policies, resource types, password settings, the cluster and the API document.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Password policies (what generated and set passwords must be).",
        subcommands: [List.self, Set.self])

    struct List: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "List password policies, built-in and custom.")
        static let routes = ["GET /policies"]
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.print(try await options.client().call(.GET, "/policies"), json: options.json, columns: ["name", "minLength", "maxLength", "builtIn"])
        }
    }
    struct Set: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Create or replace a custom policy from a JSON file (administrators).",
            discussion: """
                Example: {"name": "Strong", "minLength": 16, "maxLength": 32, "requireMixedCase": true, "requireDigits": true, \
                "minSpecial": 2, "firstCharLetter": true, "forbidLoginName": true, "historyDepth": 5, "maxAgeDays": 90}.
                """)
        static let routes = ["POST /policies"]
        @OptionGroup var options: ClientOptions
        @Argument(help: "JSON file.") var file: String
        func run() async throws { Output.print(try await options.client().call(.POST, "/policies", json: try readJSONObject(file)), json: true, columns: []) }
    }
}

struct ResourceTypeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resource-type", abstract: "Resource types and the reset plugin each uses.",
        subcommands: [List.self, Add.self])

    struct List: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "List resource types and the reset plugin of each.")
        static let routes = ["GET /resource-types"]
        @OptionGroup var options: ClientOptions
        func run() async throws {
            Output.print(try await options.client().call(.GET, "/resource-types"), json: options.json, columns: ["name", "plugin", "builtIn"])
        }
    }
    struct Add: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Add a custom resource type naming its reset plugin (administrators).")
        static let routes = ["POST /resource-types"]
        @OptionGroup var options: ClientOptions
        @Option var name: String
        @Option(help: "A reset plugin's id (see custody resource-type list).") var plugin: String
        func run() async throws {
            Output.print(try await options.client().call(.POST, "/resource-types", json: ["name": name, "plugin": plugin]), json: true, columns: [])
        }
    }
}

struct PasswordSettingsCommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "password-settings",
        abstract: "Show, or change with --require-reason and --default-policy, the password settings (administrators change them).")
    static let routes = ["GET /settings/passwords", "PUT /settings/passwords"]
    @OptionGroup var options: ClientOptions
    @Option(help: "true: a reason is required to retrieve a password.") var requireReason: Bool?
    @Option(help: "The policy used where a resource and its groups name none.") var defaultPolicy: String?
    func run() async throws {
        let client = try options.client()
        if requireReason != nil || defaultPolicy != nil {
            var body: [String: Any] = [:]
            (body["requireReason"], body["defaultPolicy"]) = (requireReason, defaultPolicy)
            _ = try await client.call(.PUT, "/settings/passwords", json: body)
        }
        Output.print(try await client.call(.GET, "/settings/passwords"), json: true, columns: [])
    }
}

struct ClusterCommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "cluster",
        abstract: "The nodes serving this vault: name, version, last heartbeat, tasks held (administrators).")
    static let routes = ["GET /cluster"]
    @OptionGroup var options: ClientOptions
    func run() async throws { Output.print(try await options.client().call(.GET, "/cluster"), json: true, columns: []) }
}

struct OpenAPICommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the server's OpenAPI document (for client generators).")
    static let routes = ["GET /openapi.json"]
    @OptionGroup var options: ClientOptions
    func run() async throws { print(String(decoding: try await options.client().fetch(.GET, "/openapi.json"), as: UTF8.self)) }
}

extension TaskCommand {
    struct Abandon: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "End a reset stuck in reconcile (administrators); its candidate stays retrievable.")
        static let routes = ["POST /tasks/:tid/abandon"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "Why (audited).") var reason: String
        func run() async throws {
            Output.print(try await options.client().call(.POST, "/tasks/\(id)/abandon", json: ["reason": reason]), json: true, columns: [])
        }
    }
}

extension AgentAdminCommand {
    struct Bind: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Bind a resource to an agent: it serves that resource's resets from now on.",
            discussion: "A resource bound to another agent is refused unless --move.")
        static let routes = ["POST /agents/:id/bindings"]
        @OptionGroup var options: ClientOptions
        @Argument(help: "The agent's id.") var id: String
        @Option var resource: String
        @Flag(help: "Move the resource from the agent it is bound to.") var move = false
        func run() async throws {
            _ = try await options.client().call(.POST, "/agents/\(id)/bindings", json: ["resourceId": resource, "move": move])
            print("bound")
        }
    }
    struct Unbind: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Unbind a resource from an agent.")
        static let routes = ["DELETE /agents/:id/bindings/:rid"]
        @OptionGroup var options: ClientOptions
        @Argument(help: "The agent's id.") var id: String
        @Option var resource: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/agents/\(id)/bindings/\(resource)"); print("unbound") }
    }
}
