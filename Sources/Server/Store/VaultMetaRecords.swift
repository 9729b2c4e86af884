/// Every record of `vaultMeta` with the identity it is sealed under: a key rotation reseals each,
/// and a migration to PostgreSQL checks each opens.
enum VaultMetaRecords {
    static let sealed: [(String, String)] = [
        ("canary", Vault.canaryIdentity), ("auditKey", VaultOpener.auditKeyIdentity),
        (SQLiteNotificationSettingsStore.passwordKey, SQLiteNotificationSettingsStore.passwordIdentity),
        (DirectoryRecords.passwordKey, DirectoryRecords.passwordIdentity),
    ]
}
