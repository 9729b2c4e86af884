import ArgumentParser
import Foundation

struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "directory",
        abstract: "Directory sign-in: Active Directory users sign in with their domain password (super-administrators configure it).",
        discussion: """
            A user with no local password signs in through the directory: a service account finds the user under \
            baseDN by userAttribute (default sAMAccountName), the user's password is checked by a bind and by the \
            domain's KDC, and the most privileged role among roleMappings whose group the user is in (nested groups \
            count) is given; a user in none is refused. The directory password is never stored. The setting \
            directorySync (in the same JSON) re-runs chosen imports daily, or on demand with `custody directory sync`.
            """,
        subcommands: [Show.self, Configure.self, Test.self, Remove.self, ImportUsers.self, ImportResources.self, Sync.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the directory settings (never the bind password).")
        @OptionGroup var options: ClientOptions
        func run() async throws { Output.print(try await options.client().call(.GET, "/settings/directory"), json: true, columns: []) }
    }
    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the settings with a JSON file (the body of PUT /settings/directory).",
            discussion: """
                Example file: {"url": "ldaps://dc1.example.com", "caFile": "/etc/custody/ad-ca.pem", \
                "bindDN": "custody-svc@example.com", "baseDN": "DC=example,DC=com", "roleMappings": \
                [{"group": "CN=Custody Admins,OU=Groups,DC=example,DC=com", "role": "administrator"}]}. \
                The bind password is read from the terminal or standard input (--ask-bind-password), so it need not sit in the file; \
                left out, the stored one is kept while url and bindDN stay the same.
                """)
        @OptionGroup var options: ClientOptions
        @Option(help: "JSON file with url, caFile or caPEM, bindDN, baseDN, userAttribute, roleMappings, kerberos, directorySync.") var file: String
        @Flag(help: "Read bindPassword from the terminal or standard input.") var askBindPassword = false
        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), var body = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("\(file) is not a JSON object")
            }
            if askBindPassword { body["bindPassword"] = try readSecret(prompt: "Bind password: ") }
            _ = try await options.client().call(.PUT, "/settings/directory", json: body)
            print("saved")
        }
    }
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bind as the service account and read the base; print what happened.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let answer = try await options.client().call(.POST, "/settings/directory/test")
            Output.print(answer, json: options.json, columns: ["ok", "outcome"])
            if (answer as? [String: Any])?["ok"] as? Bool != true { throw ExitCode(1) }
        }
    }
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn directory sign-in off (directory users can no longer sign in).")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            _ = try await options.client().call(.DELETE, "/settings/directory")
            print("removed")
        }
    }
}
