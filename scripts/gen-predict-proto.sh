#!/usr/bin/env bash
# Regenerates Sources/Processor/Generated/predict.pb.swift from proto/predict.proto
# (scripts/gen-predict-proto.sh).
# Run by hand after editing the .proto; the build never runs protoc.
# Needs: protoc (apt-get install -y protobuf-compiler) and protoc-gen-swift built from the
# swift-protobuf version in Package.swift, e.g.
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}"
protoc --plugin=protoc-gen-swift="$plugin" \
  --proto_path="$root/proto" \
  --swift_out="$root/Sources/Processor/Generated" \
  --swift_opt=Visibility=Public \
  predict.proto
