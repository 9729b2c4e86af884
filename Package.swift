// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Custody",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "custody", targets: ["Server"]),
        .library(name: "Shared", targets: ["Shared"]),
        .library(name: "ResetPlugins", targets: ["ResetPlugins"]),
        .executable(name: "custody-plugin-credfile", targets: ["CredFilePlugin"]),
        .executable(name: "custody-agent", targets: ["Agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(
            name: "Shared",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ]
        ),
        .systemLibrary(name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        .target(name: "CSpawn"),
        // Child processes with deadlines and output caps: the agent's one need of the plugin layer.
        .target(name: "Processes", dependencies: ["CSpawn"]),
        .target(name: "CCrypt", linkerSettings: [.linkedLibrary("crypt")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLDAP", providers: [.apt(["libldap-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .target(
            name: "ResetPlugins",
            dependencies: ["Shared", "Processes", "CLibSSH2", "CSpawn", "CLDAP", "CMariaDB",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("NetworkDevices/Dialects")]
        ),
        .target(
            name: "Notify",
            dependencies: ["Shared", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "Server",
            dependencies: [
                "Shared", "ResetPlugins", "Notify", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Web/Console")]
        ),
        // The agent's plugins and job runner, a library so tests reach them (the Windows plugin's
        // logic runs here against a double of the two Win32 calls).
        .target(name: "AgentPlugins", dependencies: ["Shared", "Processes", "CCrypt", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "Agent",
            dependencies: ["Shared", "Processes", "CCrypt", "AgentPlugins",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "CredFilePlugin",
            dependencies: ["Shared", .product(name: "Crypto", package: "swift-crypto")],
            path: "examples/plugins/swift"
        ),
        .testTarget(name: "SharedTests", dependencies: ["Shared"]),
        .target(name: "TestSupport", dependencies: ["Shared"], path: "Tests/TestSupport"),
        .testTarget(name: "NotifyTests", dependencies: ["Notify", "Shared", "TestSupport"]),
        .testTarget(name: "ResetPluginsTests", dependencies: ["ResetPlugins", "AgentPlugins", "Processes", "Shared", "TestSupport"]),
        // What both server test targets use: the in-process harness, the API client, script targets.
        .target(
            name: "ServerTestSupport",
            dependencies: [
                "Server", "Shared", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/ServerTestSupport"
        ),
        // Unit tests: the server in process, on SQLite, with nothing outside it.
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Shared", "Notify", "TestSupport", "ServerTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Integration tests: real servers (sshd, telnetd, slapd, MariaDB, PostgreSQL, Samba, SMTP,
        // syslog, device emulators, Chromium) and the real custody and custody-agent binaries.
        .testTarget(
            name: "ServerIntegrationTests",
            dependencies: [
                "Server", "Shared", "Notify", "TestSupport", "ServerTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
