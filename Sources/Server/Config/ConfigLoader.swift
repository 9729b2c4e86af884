import Foundation
import Yams

/// Reads the optional YAML config file and the `CUSTODY_*` environment over the defaults.
enum ConfigLoader {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func load(file: String?, environment: [String: String]) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        let path = file ?? environment["CUSTODY_CONFIG"]
        config.configFile = path
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Failure(description: "cannot read config file \(path)")
            }
            do {
                let fromFile = try YAMLDecoder().decode(PartialConfiguration.self, from: text)
                fromFile.apply(to: &config)
            } catch {
                throw Failure(description: "config file \(path) is not valid: \(error)")
            }
        }
        if let v = environment["CUSTODY_DATA_DIR"] { config.dataDir = v }
        if let v = environment["CUSTODY_HOST"] { config.host = v }
        if let v = environment["CUSTODY_PORT"] {
            guard let p = Int(v) else { throw Failure(description: "CUSTODY_PORT is not a number") }
            config.port = p
        }
        if let v = environment["CUSTODY_MASTER_KEY_FILE"] { config.masterKeyFile = v }
        if let v = environment["CUSTODY_STORE_URL"] { config.storeURL = v }
        if let v = environment["CUSTODY_STORE_PASSWORD_FILE"] { config.storePasswordFile = v }
        if let v = environment["CUSTODY_NODE_NAME"] { config.nodeName = v }
        if let v = environment["CUSTODY_LOG_LEVEL"] { config.logLevel = v }
        return config
    }
}

/// The config file: any subset of the keys, unknown keys refused.
struct PartialConfiguration: Decodable {
    var dataDir: String?
    var host: String?
    var port: Int?
    var masterKeyFile: String?
    var storeURL: String?
    var storePasswordFile: String?
    var nodeName: String?
    var nodeLeaseSeconds: Double?
    var tlsCertificateFile: String?
    var tlsKeyFile: String?
    var passwordHistoryDepth: Int?
    var lockoutThreshold: Int?
    var lockoutWindowMinutes: Int?
    var loginAddressLimit: Int?
    var publicURL: String?
    var loginNameLimit: Int?
    var sessionHours: Int?
    var maxBodyBytes: Int?
    var httpIdleSeconds: Int?
    var bcryptCost: Int?
    var logLevel: String?
    var listenerWorkers: Int?
    var listenerTimeoutSeconds: Double?
    var listenerOutputBytes: Int?
    var listenerWorkDir: String?
    var dialectsDir: String?
    var resetWorkers: Int?
    var agentTaskLimit: Int?
    var resetMaxAttempts: Int?
    var resetRetrySeconds: Double?
    var reconcileRetries: Int?
    var reconcileSlowSeconds: Double?
    var resetPerHostLimit: Int?
    var resetSessionIdleSeconds: Double?
    var webIdleMinutes: Int?
    var webRevealSeconds: Int?
    var notificationAttempts: Int?
    var agentScheduleInterval: Double?
    var agentLongPollSeconds: Int?
    var agentMaxLongPolls: Int?
    var agentLeaseSeconds: Double?
    var agentOfferSeconds: Double?
    var agentQueueSeconds: Double?
    var enrollmentTokenDays: Double?
    var backupDir: String?
    var backupSchedule: String?
    var backupKeep: Int?
    var backupPassphraseFile: String?
    var auditRetentionDays: Int?
    var auditArchiveDir: String?

    /// Every key the file may hold (`docs/configuration.md` names each, checked by `DocsTests`).
    static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case dataDir, host, port, masterKeyFile, storeURL, storePasswordFile, nodeName, nodeLeaseSeconds, tlsCertificateFile, tlsKeyFile, passwordHistoryDepth
        case lockoutThreshold, lockoutWindowMinutes, loginAddressLimit, loginNameLimit, publicURL, sessionHours, maxBodyBytes, httpIdleSeconds, bcryptCost, logLevel
        case listenerWorkers, listenerTimeoutSeconds, listenerOutputBytes, listenerWorkDir, dialectsDir, resetWorkers, resetPerHostLimit, resetSessionIdleSeconds, webIdleMinutes, webRevealSeconds
        case agentTaskLimit, reconcileRetries, reconcileSlowSeconds, resetMaxAttempts, resetRetrySeconds
        case notificationAttempts, agentScheduleInterval, agentLongPollSeconds, agentMaxLongPolls, agentLeaseSeconds, agentOfferSeconds, agentQueueSeconds, enrollmentTokenDays
        case backupDir, backupSchedule, backupKeep, backupPassphraseFile, auditRetentionDays, auditArchiveDir
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let bad = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw ConfigLoader.Failure(description: "unknown key '\(bad.stringValue)'")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        masterKeyFile = try c.decodeIfPresent(String.self, forKey: .masterKeyFile)
        storeURL = try c.decodeIfPresent(String.self, forKey: .storeURL)
        storePasswordFile = try c.decodeIfPresent(String.self, forKey: .storePasswordFile)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        nodeLeaseSeconds = try c.decodeIfPresent(Double.self, forKey: .nodeLeaseSeconds)
        tlsCertificateFile = try c.decodeIfPresent(String.self, forKey: .tlsCertificateFile)
        tlsKeyFile = try c.decodeIfPresent(String.self, forKey: .tlsKeyFile)
        passwordHistoryDepth = try c.decodeIfPresent(Int.self, forKey: .passwordHistoryDepth)
        lockoutThreshold = try c.decodeIfPresent(Int.self, forKey: .lockoutThreshold)
        lockoutWindowMinutes = try c.decodeIfPresent(Int.self, forKey: .lockoutWindowMinutes)
        loginAddressLimit = try c.decodeIfPresent(Int.self, forKey: .loginAddressLimit)
        publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL)
        loginNameLimit = try c.decodeIfPresent(Int.self, forKey: .loginNameLimit)
        sessionHours = try c.decodeIfPresent(Int.self, forKey: .sessionHours)
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes)
        httpIdleSeconds = try c.decodeIfPresent(Int.self, forKey: .httpIdleSeconds)
        bcryptCost = try c.decodeIfPresent(Int.self, forKey: .bcryptCost)
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel)
        listenerWorkers = try c.decodeIfPresent(Int.self, forKey: .listenerWorkers)
        listenerTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .listenerTimeoutSeconds)
        listenerOutputBytes = try c.decodeIfPresent(Int.self, forKey: .listenerOutputBytes)
        listenerWorkDir = try c.decodeIfPresent(String.self, forKey: .listenerWorkDir)
        dialectsDir = try c.decodeIfPresent(String.self, forKey: .dialectsDir)
        resetWorkers = try c.decodeIfPresent(Int.self, forKey: .resetWorkers)
        agentTaskLimit = try c.decodeIfPresent(Int.self, forKey: .agentTaskLimit)
        resetMaxAttempts = try c.decodeIfPresent(Int.self, forKey: .resetMaxAttempts)
        resetRetrySeconds = try c.decodeIfPresent(Double.self, forKey: .resetRetrySeconds)
        reconcileRetries = try c.decodeIfPresent(Int.self, forKey: .reconcileRetries)
        reconcileSlowSeconds = try c.decodeIfPresent(Double.self, forKey: .reconcileSlowSeconds)
        resetPerHostLimit = try c.decodeIfPresent(Int.self, forKey: .resetPerHostLimit)
        resetSessionIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .resetSessionIdleSeconds)
        webIdleMinutes = try c.decodeIfPresent(Int.self, forKey: .webIdleMinutes)
        webRevealSeconds = try c.decodeIfPresent(Int.self, forKey: .webRevealSeconds)
        notificationAttempts = try c.decodeIfPresent(Int.self, forKey: .notificationAttempts)
        agentScheduleInterval = try c.decodeIfPresent(Double.self, forKey: .agentScheduleInterval)
        agentLongPollSeconds = try c.decodeIfPresent(Int.self, forKey: .agentLongPollSeconds)
        agentMaxLongPolls = try c.decodeIfPresent(Int.self, forKey: .agentMaxLongPolls)
        agentLeaseSeconds = try c.decodeIfPresent(Double.self, forKey: .agentLeaseSeconds)
        agentOfferSeconds = try c.decodeIfPresent(Double.self, forKey: .agentOfferSeconds)
        agentQueueSeconds = try c.decodeIfPresent(Double.self, forKey: .agentQueueSeconds)
        enrollmentTokenDays = try c.decodeIfPresent(Double.self, forKey: .enrollmentTokenDays)
        backupDir = try c.decodeIfPresent(String.self, forKey: .backupDir)
        backupSchedule = try c.decodeIfPresent(String.self, forKey: .backupSchedule)
        backupKeep = try c.decodeIfPresent(Int.self, forKey: .backupKeep)
        backupPassphraseFile = try c.decodeIfPresent(String.self, forKey: .backupPassphraseFile)
        auditRetentionDays = try c.decodeIfPresent(Int.self, forKey: .auditRetentionDays)
        auditArchiveDir = try c.decodeIfPresent(String.self, forKey: .auditArchiveDir)
    }

    func apply(to c: inout ServerConfiguration) {
        if let v = dataDir { c.dataDir = v }
        if let v = host { c.host = v }
        if let v = port { c.port = v }
        if let v = masterKeyFile { c.masterKeyFile = v }
        if let v = storeURL { c.storeURL = v }
        if let v = storePasswordFile { c.storePasswordFile = v }
        if let v = nodeName { c.nodeName = v }
        if let v = nodeLeaseSeconds { c.nodeLeaseSeconds = v }
        if let v = tlsCertificateFile { c.tlsCertificateFile = v }
        if let v = tlsKeyFile { c.tlsKeyFile = v }
        if let v = passwordHistoryDepth { c.passwordHistoryDepth = v }
        if let v = lockoutThreshold { c.lockoutThreshold = v }
        if let v = lockoutWindowMinutes { c.lockoutWindowMinutes = v }
        if let v = loginAddressLimit { c.loginAddressLimit = v }
        if let v = publicURL { c.publicURL = v }
        if let v = loginNameLimit { c.loginNameLimit = v }
        if let v = sessionHours { c.sessionHours = v }
        if let v = maxBodyBytes { c.maxBodyBytes = v }
        if let v = httpIdleSeconds { c.httpIdleSeconds = v }
        if let v = bcryptCost { c.bcryptCost = v }
        if let v = logLevel { c.logLevel = v }
        if let v = listenerWorkers { c.listenerWorkers = v }
        if let v = listenerTimeoutSeconds { c.listenerTimeoutSeconds = v }
        if let v = listenerOutputBytes { c.listenerOutputBytes = v }
        if let v = listenerWorkDir { c.listenerWorkDir = v }
        if let v = dialectsDir { c.dialectsDir = v }
        if let v = resetWorkers { c.resetWorkers = v }
        if let v = agentTaskLimit { c.agentTaskLimit = v }
        if let v = resetMaxAttempts { c.resetMaxAttempts = v }
        if let v = resetRetrySeconds { c.resetRetrySeconds = v }
        if let v = reconcileRetries { c.reconcileRetries = v }
        if let v = reconcileSlowSeconds { c.reconcileSlowSeconds = v }
        if let v = resetPerHostLimit { c.resetPerHostLimit = v }
        if let v = resetSessionIdleSeconds { c.resetSessionIdleSeconds = v }
        if let v = webIdleMinutes { c.webIdleMinutes = v }
        if let v = webRevealSeconds { c.webRevealSeconds = v }
        if let v = notificationAttempts { c.notificationAttempts = v }
        if let v = agentScheduleInterval { c.agentScheduleInterval = v }
        if let v = agentLongPollSeconds { c.agentLongPollSeconds = v }
        if let v = agentMaxLongPolls { c.agentMaxLongPolls = v }
        if let v = agentLeaseSeconds { c.agentLeaseSeconds = v }
        if let v = agentOfferSeconds { c.agentOfferSeconds = v }
        if let v = agentQueueSeconds { c.agentQueueSeconds = v }
        if let v = enrollmentTokenDays { c.enrollmentTokenDays = v }
        if let v = backupDir { c.backupDir = v }
        if let v = backupSchedule { c.backupSchedule = v }
        if let v = backupKeep { c.backupKeep = v }
        if let v = backupPassphraseFile { c.backupPassphraseFile = v }
        if let v = auditRetentionDays { c.auditRetentionDays = v }
        if let v = auditArchiveDir { c.auditArchiveDir = v }
    }
}
