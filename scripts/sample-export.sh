#!/usr/bin/env bash
# Rebuilds the export shipped in models/sample/<version>/ (README "Try it without the demo"):
# a small deterministic world (odl gen --seed 7), 240 offline steps of the demo model on it
# (models/demo/sample.config, no update stream) and odl export. About a minute on 2 cores.
# Usage: scripts/sample-export.sh [ODL_BINARY]   (default .build/debug/odl)
set -euo pipefail
odl=${1:-.build/debug/odl}
work=demo-out/sample
rm -rf "$work"
mkdir -p "$work"
"$odl" gen --seed 7 --out "$work/world" --users 300 --yesterday-pages 3000 --today-pages 10 --fg-json models/demo/fg.json
"$odl" train --config models/demo/sample.config --model-dir "$work/train"
rm -rf models/sample/[0-9]*
"$odl" export --config models/demo/sample.config --checkpoint-path "$work/train" --export-dir models/sample
ls -d models/sample/[0-9]*
