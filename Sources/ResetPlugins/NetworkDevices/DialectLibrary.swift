import Foundation
import Yams

/// The dialects this process knows: the built-in files shipped as package resources, then any
/// files in an administrator's directory (a file there with a built-in's id replaces it).
public struct DialectLibrary: Sendable {
    public private(set) var dialects: [String: Dialect] = [:]
    /// Where each dialect came from, for listings and errors.
    public private(set) var sources: [String: String] = [:]
    /// Resource type → the id of the dialect serving it (the first by id when several list it).
    private var byType: [String: String] = [:]

    public init() {}

    /// The built-in dialects, plus `extraDirectory` when given.
    public static func load(extraDirectory: String? = nil) throws(DialectError) -> DialectLibrary {
        var lib = DialectLibrary()
        guard let builtIn = builtInDirectory() else {
            throw DialectError("*", "the built-in dialects were not found: ship Custody_ResetPlugins.resources beside the binary")
        }
        try lib.add(directory: builtIn)
        if let extraDirectory { try lib.add(directory: extraDirectory) }
        return lib
    }

    /// The built-in library, loaded once; empty (and logged by the caller) when it cannot load.
    public static let builtIn: DialectLibrary = (try? load()) ?? DialectLibrary()

    /// Adds every `*.yaml` / `*.yml` file of `directory`.
    public mutating func add(directory: String) throws(DialectError) {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DialectError("*", "cannot read the dialect directory \(directory)")
        }
        for f in files.sorted() where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
            let path = directory + "/" + f
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw DialectError(f, "cannot read \(path)") }
            let d = try Self.parse(text, file: f)
            dialects[d.id] = d
            sources[d.id] = path
        }
        byType = [:]
        for d in dialects.values.sorted(by: { $0.id < $1.id }) {
            for type in d.resourceTypes where byType[type] == nil { byType[type] = d.id }
        }
    }

    /// Parses and checks one dialect file.
    public static func parse(_ yaml: String, file: String = "dialect") throws(DialectError) -> Dialect {
        let d: Dialect
        do {
            d = try YAMLDecoder().decode(Dialect.self, from: yaml)
        } catch {
            throw DialectError(file, "not a dialect: \(Self.describe(error))")
        }
        try d.validate()
        return d
    }

    public func dialect(id: String) -> Dialect? { dialects[id] }

    /// The dialect that serves a resource type (by the files' `resourceTypes`).
    public func dialect(forType type: String) -> Dialect? {
        byType[type].flatMap { dialects[$0] }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .keyNotFound(let k, let c): return "missing '\((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))'"
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
                return "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
            @unknown default: return "\(e)"
            }
        }
        return "\(error)"
    }

    /// The resource directory: beside the executable (installed or built), or in the source tree.
    public static func builtInDirectory() -> String? {
        let exeDir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent().path
        let candidates = [
            Bundle.main.bundleURL.path + "/Custody_ResetPlugins.resources/Dialects",
            exeDir + "/Custody_ResetPlugins.resources/Dialects",
            "/usr/share/custody/dialects",
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Dialects",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
