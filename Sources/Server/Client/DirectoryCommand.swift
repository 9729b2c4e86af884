import ArgumentParser
import Foundation

struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "directory",
        abstract: "Directory sign-in: Active Directory users sign in with their domain password (super-administrators configure it).",
        discussion: """
            A user with no local password signs in through the directory: a service account finds the user under \
            baseDN by userAttribute (default sAMAccountName), the user's password is checked by a bind and by the \
            domain's KDC, and the most privileged role among roleMappings whose group the user is in (nested groups \
            count) is given; a user in none is refused. The directory password is never stored.
            """,
        subcommands: [Show.self, Configure.self, Test.self, Remove.self, ImportUsers.self, ImportResources.self])

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
        @Option(help: "JSON file with url, caFile or caPEM, bindDN, baseDN, userAttribute, roleMappings.") var file: String
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
    struct ImportUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-users",
            abstract: "Make Custody users of the people in directory groups (nested members too) or under bases, and user groups of the groups.",
            discussion: """
                Each person gets the role their mapped groups give (the directory settings' roleMappings); a person in none, a                 disabled account and the name of a local user are skipped and listed. Running it again updates roles and the user                 groups' members. Exits 1 when the directory could not be read.
                """)
        @OptionGroup var options: ClientOptions
        @Option(help: "A group's distinguished name; repeatable.") var group: [String] = []
        @Option(help: "A base (OU) whose people are imported; repeatable.") var base: [String] = []
        func run() async throws {
            guard !group.isEmpty || !base.isEmpty else { throw ValidationError("give --group or --base (distinguished names)") }
            let answer = try await options.client().call(.POST, "/directory/import/users", json: ["groups": group, "bases": base])
            let report = answer as? [String: Any] ?? [:]
            if options.json {
                Output.print(answer, json: true, columns: [])
            } else {
                for key in ["created", "updated", "unchanged"] { print("\(key): \((report[key] as? [String] ?? []).joined(separator: ", "))") }
                for s in report["skipped"] as? [[String: Any]] ?? [] { print("skipped: \(s["name"] ?? "") (\(s["reason"] ?? ""))") }
                for g in report["userGroups"] as? [[String: Any]] ?? [] {
                    print("user group \(g["name"] ?? ""): \((g["members"] as? [String] ?? []).joined(separator: ", "))")
                }
            }
            if report["ok"] as? Bool != true {
                FileHandle.standardError.write(Data("the directory could not be read: \(report["error"] ?? "")\n".utf8))
                throw ExitCode(1)
            }
        }
    }
    struct ImportResources: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-resources",
            abstract: "Make resources of the computer objects under a base, and resource groups of their OUs.",
            discussion: """
                Each enabled computer becomes a resource you own, named by its DNS name (dNSHostName), of the type its \
                operatingSystem names (Windows, Linux, Mac OS, Solaris, else Generic). A name already taken is listed as existing \
                or skipped. With OU groups (the default), each OU becomes a resource group, and later imports add to it. Exits 1 \
                when the directory could not be read.
                """)
        @OptionGroup var options: ClientOptions
        @Option(help: "The base (an OU) whose computers are imported.") var base: String
        @Flag(help: "Do not make resource groups of the OUs.") var noGroups = false
        func run() async throws {
            let answer = try await options.client().call(.POST, "/directory/import/resources", json: ["base": base, "groupByOU": !noGroups])
            let report = answer as? [String: Any] ?? [:]
            if options.json {
                Output.print(answer, json: true, columns: [])
            } else {
                for key in ["created", "existing"] { print("\(key): \((report[key] as? [String] ?? []).joined(separator: ", "))") }
                for s in report["skipped"] as? [[String: Any]] ?? [] { print("skipped: \(s["name"] ?? "") (\(s["reason"] ?? ""))") }
                for g in report["groups"] as? [[String: Any]] ?? [] { print("group \(g["name"] ?? ""): \((g["members"] as? [String] ?? []).count) resource(s)") }
            }
            if report["ok"] as? Bool != true {
                FileHandle.standardError.write(Data("the directory could not be read: \(report["error"] ?? "")\n".utf8))
                throw ExitCode(1)
            }
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
