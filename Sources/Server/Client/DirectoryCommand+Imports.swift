import ArgumentParser
import Foundation

extension DirectoryCommand {
    struct ImportUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-users",
            abstract: "Make Custody users of the people in directory groups (nested members too) or under bases, and user groups of the groups.",
            discussion: """
                Each person gets the role their mapped groups give (the directory settings' roleMappings); a person in none and a \
                disabled account are skipped (and disabled in Custody when they were users), as is the name of a local user. \
                Running it again updates roles and the user groups' members. Exits 1 when the directory could not be read.
                """)
        @OptionGroup var options: ClientOptions
        @Option(help: "A group's distinguished name; repeatable.") var group: [String] = []
        @Option(help: "A base (OU) whose people are imported; repeatable.") var base: [String] = []
        func run() async throws {
            guard !group.isEmpty || !base.isEmpty else { throw ValidationError("give --group or --base (distinguished names)") }
            let report = try await options.client().call(.POST, "/directory/import/users", json: ["groups": group, "bases": base])
            DirectoryReport.printUsers(report, json: options.json)
            try DirectoryReport.exit(report)
        }
    }

    struct ImportResources: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import-resources",
            abstract: "Make resources of the computer objects under a base, resource groups of their OUs, and domain accounts of a Windows Domain resource.",
            discussion: """
                Each enabled computer under --base becomes a resource you own, named by its DNS name (dNSHostName), of the type \
                its operatingSystem names (Windows, Linux, Mac OS, Solaris, else Generic). A name already taken is listed as \
                existing or skipped. With OU groups (the default), each OU becomes a resource group, and later imports add to it. \
                With --accounts-base and --domain-resource, each enabled domain user account under that base becomes an account \
                of the Windows Domain resource, its password unknown until its first reset (a reset through the domain \
                controller with the resource's login account sets one). Exits 1 when the directory could not be read.
                """)
        @OptionGroup var options: ClientOptions
        @Option(help: "The base (an OU) whose computers are imported.") var base: String?
        @Flag(help: "Do not make resource groups of the OUs.") var noGroups = false
        @Option(help: "The base whose domain user accounts are imported.") var accountsBase: String?
        @Option(help: "The id of the Windows Domain resource the accounts are added to.") var domainResource: String?
        func validate() throws {
            guard base != nil || accountsBase != nil else { throw ValidationError("give --base, or --accounts-base with --domain-resource") }
            guard (accountsBase == nil) == (domainResource == nil) else { throw ValidationError("--accounts-base and --domain-resource go together") }
        }
        func run() async throws {
            var body: [String: Any] = ["groupByOU": !noGroups]
            (body["base"], body["accountsBase"], body["domainResource"]) = (base, accountsBase, domainResource)
            let report = try await options.client().call(.POST, "/directory/import/resources", json: body)
            DirectoryReport.printResources(report, json: options.json)
            try DirectoryReport.exit(report)
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the directory sync now: the imports of the directorySync setting, with removals.",
            discussion: """
                The sync re-runs the users' import and each resources' import that directorySync names, acting as the \
                super-administrator who saved the settings. Unlike a one-off import, it disables the directory users its earlier \
                runs made that the directory no longer gives (they cannot sign in until an import finds them again) and marks \
                `missing` the domain accounts it made that the directory no longer lists. Nothing is deleted. With dailyAt set, \
                the server runs it every day by itself. Exits 1 when an import could not be done.
                """)
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let report = try await options.client().call(.POST, "/directory/sync")
            let r = report as? [String: Any] ?? [:]
            if options.json {
                Output.print(report, json: true, columns: [])
            } else {
                if let users = r["users"] { DirectoryReport.printUsers(users, json: false) }
                for res in r["resources"] as? [Any] ?? [] { DirectoryReport.printResources(res, json: false) }
                print("disabled: \((r["disabled"] as? [String] ?? []).joined(separator: ", "))")
            }
            try DirectoryReport.exit(report)
        }
    }
}

/// How the imports' reports print.
enum DirectoryReport {
    static func printUsers(_ answer: Any, json: Bool) {
        guard !json else { return Output.print(answer, json: true, columns: []) }
        let report = answer as? [String: Any] ?? [:]
        for key in ["created", "updated", "unchanged"] { print("\(key): \((report[key] as? [String] ?? []).joined(separator: ", "))") }
        skipped(report)
        for g in report["userGroups"] as? [[String: Any]] ?? [] {
            print("user group \(g["name"] ?? ""): \((g["members"] as? [String] ?? []).joined(separator: ", "))")
        }
    }

    static func printResources(_ answer: Any, json: Bool) {
        guard !json else { return Output.print(answer, json: true, columns: []) }
        let report = answer as? [String: Any] ?? [:]
        for key in ["created", "existing"] { print("\(key): \((report[key] as? [String] ?? []).joined(separator: ", "))") }
        skipped(report)
        for g in report["groups"] as? [[String: Any]] ?? [] { print("group \(g["name"] ?? ""): \((g["members"] as? [String] ?? []).count) resource(s)") }
        if let accounts = report["accounts"] as? [String: Any] {
            for key in ["created", "existing", "missing"] { print("accounts \(key): \((accounts[key] as? [String] ?? []).joined(separator: ", "))") }
            skipped(accounts, "account skipped")
        }
    }

    private static func skipped(_ report: [String: Any], _ what: String = "skipped") {
        for s in report["skipped"] as? [[String: Any]] ?? [] { print("\(what): \(s["name"] ?? "") (\(s["reason"] ?? ""))") }
    }

    /// Exits 1 (the reason on standard error) when the report says the work could not be done.
    static func exit(_ answer: Any) throws {
        let report = answer as? [String: Any] ?? [:]
        guard report["ok"] as? Bool != true else { return }
        FileHandle.standardError.write(Data("the directory import did not complete: \(report["error"] ?? "")\n".utf8))
        throw ExitCode(1)
    }
}
