import ArgumentParser
import Foundation

/// Who you are, signing out, and your own two-factor sign-in.
struct WhoAmICommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show the user the token belongs to, with role and flags.")
    static let routes = ["GET /auth/me"]
    @OptionGroup var options: ClientOptions
    func run() async throws { Output.print(try await options.client().call(.GET, "/auth/me"), json: true, columns: []) }
}

struct LogoutCommand: AsyncParsableCommand, CallsRoutes {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "End the session of the token in use (it is revoked).")
    static let routes = ["POST /auth/logout"]
    @OptionGroup var options: ClientOptions
    func run() async throws {
        _ = try await options.client().call(.POST, "/auth/logout")
        print("signed out")
    }
}

struct TOTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "totp", abstract: "Your own two-factor sign-in (RFC 6238 one-time codes).",
        subcommands: [Enable.self, Disable.self])

    struct Enable: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Set up two-factor sign-in: prints the secret, then reads a code from your app to turn it on.",
            discussion: """
                The secret and its otpauth:// URI are printed once; add them to an authenticator app, then type the 6-digit code \
                it shows (terminal or standard input). From then on every sign-in asks for a code.
                """)
        static let routes = ["POST /auth/totp"]
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let client = try options.client()
            let setup = try await client.call(.POST, "/auth/totp", json: [String: Any]()) as? [String: Any] ?? [:]
            print("secret: \(setup["secret"] ?? "")\nuri: \(setup["uri"] ?? "")")
            let code = try readSecret(prompt: "Code from the app: ")
            _ = try await client.call(.POST, "/auth/totp", json: ["otp": code])
            print("two-factor sign-in is on")
        }
    }

    struct Disable: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Turn your two-factor sign-in off; your password is read from the terminal or standard input.")
        static let routes = ["POST /auth/totp/disable"]
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let password = try readSecret(prompt: "Password: ")
            _ = try await options.client().call(.POST, "/auth/totp/disable", json: ["password": password])
            print("two-factor sign-in is off")
        }
    }
}

extension UserCommand {
    struct Show: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Show a user (administrators).")
        static let routes = ["GET /users/:uid"]
        @OptionGroup var options: ClientOptions
        @Argument(help: "The user's id (custody user list).") var id: String
        func run() async throws { Output.print(try await options.client().call(.GET, "/users/\(id)"), json: options.json, columns: UserCommand.columns) }
    }

    struct Update: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Change a user's role, super-administrator flag, email or password (administrators).",
            discussion: "With --password the new password is read from the terminal or standard input; the user must change it at the next sign-in.")
        static let routes = ["PATCH /users/:uid"]
        @OptionGroup var options: ClientOptions
        @Argument(help: "The user's id.") var id: String
        @Option(help: "administrator, passwordAdministrator, passwordUser or passwordAuditor") var role: String?
        @Option(help: "true or false (super-administrators only).") var superAdmin: Bool?
        @Option var email: String?
        @Flag(help: "Set a new password, read from the terminal or standard input.") var password = false
        func run() async throws {
            var body: [String: Any] = [:]
            (body["role"], body["superAdmin"], body["email"]) = (role, superAdmin, email)
            if password { body["password"] = try readSecret(prompt: "New password: ") }
            guard !body.isEmpty else { throw ValidationError("give --role, --super-admin, --email or --password") }
            Output.print(try await options.client().call(.PATCH, "/users/\(id)", json: body), json: options.json, columns: UserCommand.columns)
        }
    }
}

struct UserGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user-group", abstract: "User groups: shares and notifications go to their members.",
        subcommands: [List.self, Create.self, Members.self, Delete.self])
    static let columns = ["id", "name", "members"]

    struct List: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "List user groups (administrators: all; others: their own).")
        static let routes = ["GET /user-groups"]
        @OptionGroup var options: ClientOptions
        @OptionGroup var list: ListOptions
        @Option(help: "Names starting with this, whatever their case.") var name: String?
        func run() async throws {
            Output.print(try await list.rows(try options.client(), Query.path("/user-groups", [("name", name)])), json: options.json,
                columns: UserGroupCommand.columns)
        }
    }
    struct Create: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Create a user group (administrators).")
        static let routes = ["POST /user-groups"]
        @OptionGroup var options: ClientOptions
        @Option var name: String
        @Option(help: "A member's user name; repeatable.") var member: [String] = []
        func run() async throws {
            Output.print(try await options.client().call(.POST, "/user-groups", json: ["name": name, "members": member]), json: options.json,
                columns: UserGroupCommand.columns)
        }
    }
    struct Members: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Replace a user group's members (administrators).")
        static let routes = ["PUT /user-groups/:gid/members"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        @Option(help: "A member's user name; repeatable (none empties the group).") var member: [String] = []
        func run() async throws {
            Output.print(try await options.client().call(.PUT, "/user-groups/\(id)/members", json: ["members": member]), json: options.json,
                columns: UserGroupCommand.columns)
        }
    }
    struct Delete: AsyncParsableCommand, CallsRoutes {
        static let configuration = CommandConfiguration(abstract: "Delete a user group and the shares given to it (administrators).")
        static let routes = ["DELETE /user-groups/:gid"]
        @OptionGroup var options: ClientOptions
        @Argument var id: String
        func run() async throws { _ = try await options.client().call(.DELETE, "/user-groups/\(id)"); print("deleted") }
    }
}

/// Reads a JSON object from a file (a request body).
func readJSONObject(_ file: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: file), let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ValidationError("\(file) is not a readable JSON object")
    }
    return body
}
