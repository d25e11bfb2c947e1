#!/usr/bin/env bash
# Regenerates the committed Swift code for proto/tensorflow/ (TensorFlow's public TensorBundle
# protos and the SavedModel subset odl reads). Not part of the build.
# Needs protoc (apt-get install -y protobuf-compiler) and protoc-gen-swift 1.39.0, built from
# the swift-protobuf package checkout: swift build -c release --product protoc-gen-swift
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOC_GEN_SWIFT=${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}
OUT=Sources/TensorFlowIO/Generated
protoc --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
       --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
       --swift_out="$OUT" --proto_path=proto \
       proto/tensorflow/core/framework/types.proto \
       proto/tensorflow/core/framework/tensor_shape.proto \
       proto/tensorflow/core/framework/tensor_slice.proto \
       proto/tensorflow/core/framework/versions.proto \
       proto/tensorflow/core/protobuf/tensor_bundle.proto \
       proto/tensorflow/core/protobuf/saved_model_subset.proto
echo "generated: $(ls $OUT)"
