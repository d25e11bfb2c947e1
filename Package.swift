// swift-tools-version:6.1
import PackageDescription

/// Release builds of the numeric modules target AVX2+FMA (Haswell and newer x86 servers);
/// without a target CPU Swift emits SSE2 and software fma (see README, "Performance").
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux]))]

let package = Package(
    name: "odl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "odl", targets: ["odl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // System libraries (Debian packages; see Makefile `deps`).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // PostgreSQL client over libpq (item feature source) and a throw-away local server for tests/bench.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),

        // The one Swift wrapper over librdkafka: producer, consumer, admin, embedded broker.
        .target(name: "Kafka", dependencies: [
            "CRdKafka",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // One JSON value type and parser (key order and number literals kept) for Config and FG.
        .target(name: "JSON"),
        // EasyRec pipeline config (protobuf text format) and edit_config_json.
        .target(name: "Config", dependencies: [
            "JSON",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // fg.json, feature functions, FarmHash, feature columns.
        .target(name: "FG", dependencies: ["JSON"], swiftSettings: simdFlags),
        // GEMM micro-kernels compiled for AVX-512; Inference selects them at run time (SIMDLevel).
        // The prefetch hint the embedding gather issues ahead of its loads (C: Swift has no intrinsic).
        .target(name: "CPrefetch"),
        .target(name: "KernelsAVX512", swiftSettings: [.unsafeFlags(["-target-cpu", "skylake-avx512"], .when(platforms: [.linux]))]),
        // Object storage: one protocol over local files and S3-compatible buckets (s3://, oss://).
        .target(name: "Storage", dependencies: [
            "CCurl", "CZlib",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // TensorFlow file formats: TensorBundle checkpoints (LevelDB-table .index + .data shards,
        // CRC32C-checked) and SavedModel signatures; generated from TensorFlow's public protos.
        .target(name: "TensorFlowIO", dependencies: [
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Array files under exports and checkpoints: FloatBuffer (heap or mmap), .npy, gzip, whole-file I/O.
        .target(name: "ArrayIO", dependencies: ["CZlib"], swiftSettings: simdFlags),
        // The model and its parameters: ModelSpec, DeepFM forward + GEMM kernels, parameter store,
        // update messages, codec and apply.
        .target(name: "Inference", dependencies: [
            "ArrayIO", "Config", "CPrefetch", "FG", "KernelsAVX512",
            .product(name: "Numerics", package: "swift-numerics"),
        ], swiftSettings: simdFlags),
        // The export format: manifest, signature, reader/writer of export folders (local or HTTP), inspector.
        .target(name: "Export", dependencies: [
            "ArrayIO", "Inference", "Config", "FG", "JSON", "CCurl",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: simdFlags),
        // The update-path fuzzer (random and mutated messages against a shadow model): tests and `odl inspect`.
        .target(name: "UpdateFuzz", dependencies: ["Inference", "FG"]),
        // Plain digests (SHA-1 + HMAC-SHA1, MD5): DataHub request signatures, EAS auth, shard hashing.
        .target(name: "Digest"),
        // DataHub client over the REST API (libcurl), signatures, protocol types.
        .target(name: "DataHub", dependencies: ["CCurl", "Digest"]),
        // The embedded DataHub-protocol endpoint (`odl datahub`).
        .target(name: "DataHubServer", dependencies: [
            "DataHub", "Digest",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Real EasyRec exports and checkpoints as odl's DeepFM: name mapping, ids, import.
        .target(name: "EasyRec", dependencies: ["TensorFlowIO", "Inference", "Export", "Config", "FG"]),
        // HTTP API, update stream, status/metrics, item features.
        .target(name: "Processor", dependencies: [
            "Config", "CPrefetch", "FG", "Inference", "Export", "Kafka", "Digest", "EasyRec", "Postgres", "Storage",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Streaming trainer: inputs, backprop + optimizers, incremental saver, checkpoints, export.
        .target(name: "Trainer", dependencies: [
            "Config", "FG", "ArrayIO", "Inference", "Export", "Kafka", "DataHub", "EasyRec", "Storage",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Numerics", package: "swift-numerics"),
        ], swiftSettings: simdFlags),
        // The demo world and run (`odl gen`, `odl demo`): synthetic clicks, child processes, report.
        .target(name: "Demo", dependencies: ["Config", "DataHub", "FG", "Kafka"]),
        // Every benchmark driver: `odl bench ...`, `odl inspect --bench`, `odl fg --bench` (see BENCHMARKS.md).
        .target(name: "Bench", dependencies: [
            "ArrayIO", "Config", "Export", "FG", "Inference", "Kafka", "Postgres", "Processor", "Storage", "Trainer", "UpdateFuzz",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The CLI: argument parsing and wiring only, one short file per command.
        .executableTarget(name: "odl", dependencies: [
            "Kafka", "Config", "FG", "JSON", "Inference", "Export", "Processor", "Trainer", "DataHub", "DataHubServer", "EasyRec",
            "Postgres", "Storage", "Demo", "Bench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "TensorFlowIOTests", dependencies: ["TensorFlowIO"]),
        .testTarget(name: "EasyRecTests", dependencies: ["EasyRec", "TensorFlowIO", "Inference", "Config", "FG",
                                                         "Processor", "Trainer", "Kafka",
                                                         .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "JSON"]),
        .testTarget(name: "FGTests", dependencies: ["FG", "Bench"]),
        .testTarget(name: "InferenceTests", dependencies: ["ArrayIO", "Inference", "Export", "UpdateFuzz", "Config", "FG"]),
        .testTarget(name: "ProcessorTests", dependencies: ["Processor", "Inference", "Export", "FG", "Kafka", "Digest", "Postgres"]),
        .testTarget(name: "DigestTests", dependencies: ["Digest"]),
        .testTarget(name: "DataHubTests", dependencies: ["DataHub", "DataHubServer"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "Bench", "Inference", "Export", "FG", "Config", "Kafka", "DataHub"]),
        // CLI-level tests: the demo world, end-to-end multi-process runs.
        .testTarget(name: "odlTests", dependencies: [
            "odl", "Demo", "Trainer", "FG", "Config", "Kafka", "Storage",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
