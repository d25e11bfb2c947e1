// swift-tools-version:6.1
// The PostgresNIO side of `odl bench items --peer-command`: the same full-table read the item
// source does, through the Swift ecosystem's PostgreSQL client instead of libpq. A separate
// package, so odl itself does not depend on PostgresNIO (the measurement decided that).
import PackageDescription

let package = Package(
    name: "postgres-nio-peer",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .executableTarget(
            name: "PostgresNIOPeer",
            dependencies: [.product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
