# odl: online deep learning for recommendation (Swift).
# `make demo` and `make test` are the two commands a new user runs.

SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := librdkafka-dev libcurl4-openssl-dev zlib1g-dev pkg-config kcat
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN_DEBUG := .build/debug/odl
BIN_RELEASE := .build/release/odl

.PHONY: deps build release test demo clean bench s3-deps

## deps: install the missing Debian packages (apt-get update only when something is missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "system packages present: $(APT_PACKAGES)"; fi

## build: debug build of everything
build: deps
	$(SWIFT) build

## release: optimized build of the odl binary
release: deps
	$(SWIFT) build -c release --product odl

## s3-deps: moto (S3-compatible test server, signature checks on) and boto3 in a private venv
## under $(HOME)/.cache/odl/s3-venv (created when missing, reused when present)
S3_VENV := $(HOME)/.cache/odl/s3-venv
s3-deps:
	@[ -x $(S3_VENV)/bin/python ] || python3 -m venv $(S3_VENV) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(S3_VENV); }
	@$(S3_VENV)/bin/python -c "import moto.server, boto3, flask" 2>/dev/null || $(S3_VENV)/bin/python -m pip install -q 'moto[server]' boto3

## test: unit, integration and multi-process tests
test: deps s3-deps
	@python3 -m pip install --quiet --disable-pip-version-check eas-prediction || echo "warning: eas-prediction not installed; its client test will say so"
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## demo: optimized build, then the end-to-end demo (a few minutes on 2 cores);
## results in demo-out/results.txt and demo-out/report.html. Exit status 1 if live does not beat static.
demo: deps
	$(SWIFT) build -c release --product odl
	$(BIN_RELEASE) demo --work-dir demo-out --model-dir models/demo

## bench: release build, then every benchmark beside its peer in the same run -> bench/results.json,
## BENCHMARKS.md (< 20 min on 2 cores). BENCH_QUICK=1: reduced sizes (smoke run). Installs its own peers:
## wrk (apt) and, in a private venv so system Python packages are untouched, onnx/onnxruntime/numpy (pip).
BENCH_VENV := .build/bench-venv
BENCH_PY := $(BENCH_VENV)/bin/python
bench: deps s3-deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }
	@[ -x $(BENCH_PY) ] || python3 -m venv $(BENCH_VENV) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(BENCH_VENV); }
	@$(BENCH_PY) -c "import onnx, onnxruntime, numpy" 2>/dev/null || $(BENCH_PY) -m pip install -q onnx onnxruntime numpy
	$(SWIFT) build -c release --product odl
	BENCH_PYTHON=$(BENCH_PY) ODL=$(BIN_RELEASE) python3 bench/run.py

clean:
	rm -rf .build
