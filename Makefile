# odl: online deep learning for recommendation (Swift).
# `make demo` and `make test` are the two commands a new user runs.

SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := librdkafka-dev libcurl4-openssl-dev zlib1g-dev pkg-config kcat curl libpq-dev postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN_DEBUG := .build/debug/odl
BIN_RELEASE := .build/release/odl

.PHONY: deps build release test demo clean bench kafka easyrec-fixture easyrec-venv kafka-python datahub-venv s3-deps

## deps: install the missing Debian packages (apt-get update only when something is missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "system packages present: $(APT_PACKAGES)"; fi

## kafka: the real Kafka-protocol broker for tests and benchmarks (noida-db's Kafka service, PyPI),
## in a private venv under $(HOME)/.cache/odl (created when missing, reused when present).
KAFKA_VENV := $(HOME)/.cache/odl/kafka-venv
KAFKA_BROKER_PKG := noida-db==0.2.3
kafka:
	@if $(KAFKA_VENV)/bin/python -c "import importlib.metadata as m; assert m.version('noida-db') == '0.2.3'" 2>/dev/null; then \
	  echo "real Kafka broker present: $(KAFKA_BROKER_PKG) in $(KAFKA_VENV)"; \
	else \
	  mkdir -p $(HOME)/.cache/odl && \
	  { [ -x $(KAFKA_VENV)/bin/python ] || python3 -m venv $(KAFKA_VENV) || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(KAFKA_VENV); }; } && \
	  $(KAFKA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(KAFKA_BROKER_PKG); \
	fi

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

## datahub-venv: the unchanged official DataHub Python SDK (pydatahub) in a private venv, for the interop test
DATAHUB_VENV := $(HOME)/.cache/odl/pydatahub-venv
datahub-venv:
	@[ -x $(DATAHUB_VENV)/bin/python ] || python3 -m venv $(DATAHUB_VENV) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(DATAHUB_VENV); }
	@$(DATAHUB_VENV)/bin/python -c "import datahub" 2>/dev/null || $(DATAHUB_VENV)/bin/python -m pip install -q --disable-pip-version-check pydatahub

## test: unit, integration and multi-process tests; the Kafka ones on both the embedded and the
## real broker (ODL_TEST_KAFKA=real|embedded|both, default both)
test: deps kafka kafka-python datahub-venv s3-deps
	@python3 -m pip install --quiet --disable-pip-version-check eas-prediction || echo "warning: eas-prediction not installed; its client test will say so"
	$(SWIFT) build --build-tests
	ODL_TEST_KAFKA=$${ODL_TEST_KAFKA:-both} $(SWIFT) test --skip-build

## demo: optimized build, then the end-to-end demo (a few minutes on 2 cores);
## results in demo-out/results.txt and demo-out/report.html. Exit status 1 if live does not beat static.
demo: deps
	$(SWIFT) build -c release --product odl
	$(BIN_RELEASE) demo --work-dir demo-out --model-dir models/demo

## bench: release build, then every benchmark beside its peer in the same run -> bench/results.json,
## BENCHMARKS.md (about 10 min of measurements on 2 cores, plus the release builds; the first build of the
## PostgresNIO peer, bench/postgres-nio-peer, adds several minutes). BENCH_QUICK=1: reduced sizes (smoke run).
## Installs its own peers: wrk (apt) and, in a private venv so system Python packages are untouched,
## onnx/onnxruntime/numpy (pip).
BENCH_VENV := .build/bench-venv
BENCH_PY := $(BENCH_VENV)/bin/python
bench: deps kafka s3-deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }
	@[ -x $(BENCH_PY) ] || python3 -m venv $(BENCH_VENV) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(BENCH_VENV); }
	@$(BENCH_PY) -c "import onnx, onnxruntime, numpy" 2>/dev/null || $(BENCH_PY) -m pip install -q onnx onnxruntime numpy
	$(SWIFT) build -c release --product odl
	$(SWIFT) build -c release --package-path bench/postgres-nio-peer
	BENCH_PYTHON=$(BENCH_PY) ODL=$(BIN_RELEASE) ODL_REAL_KAFKA_BIN=$$(ls $(KAFKA_VENV)/lib/python*/site-packages/noida_db/noida-db | head -1) \
	  python3 bench/run.py

## easyrec-venv: private venv with real EasyRec 0.7.1 on TensorFlow 2.15 (~3 min, 1.9 GB), patched to run
## there (scripts/easyrec-fixture/patch_easyrec.py). Only `make easyrec-fixture` needs it, never `make test`.
EASYREC_VENV := $(HOME)/.cache/odl/easyrec-venv
EASYREC_PY := $(EASYREC_VENV)/bin/python
easyrec-venv:
	@[ -x $(EASYREC_PY) ] || python3 -m venv $(EASYREC_VENV) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(EASYREC_VENV); }
	@$(EASYREC_PY) -c "import easy_rec, tensorflow, numpy; assert numpy.__version__ < '2'" 2>/dev/null || { \
	  $(EASYREC_PY) -m pip install -q 'tensorflow-cpu==2.15.*' && \
	  $(EASYREC_PY) -m pip install -q pai-easy-rec==0.7.1 && \
	  $(EASYREC_PY) -m pip install -q 'numpy<2' 'pandas<2.3' 'scipy<1.14' 'scikit-learn<1.6' 'matplotlib<3.10' 'pyarrow<18'; }
	$(EASYREC_PY) scripts/easyrec-fixture/patch_easyrec.py

## easyrec-fixture: regenerate Tests/Fixtures/easyrec with real EasyRec (train, export, continue, updates,
## TensorFlow's predictions; ~4.5 CPU-minutes). The committed fixture is what `make test` uses.
## EASYREC_FIXTURE_OUT=DIR writes it elsewhere (to compare a regeneration with the committed one).
EASYREC_FIXTURE_OUT ?= Tests/Fixtures/easyrec
easyrec-fixture: easyrec-venv
	$(EASYREC_PY) scripts/easyrec-fixture/make_fixture.py --out $(EASYREC_FIXTURE_OUT)

## kafka-python: private venv with kafka-python 2.0.2 (the client EasyRec's trainer uses; 2.0.2 still takes
## the producer settings EasyRec 0.7.1 passes), for the tests that send the fixture's update messages
## with scripts/easyrec-fixture/send_updates.py
KAFKA_PYTHON_VENV := $(HOME)/.cache/odl/kafka-python-venv
kafka-python:
	@[ -x $(KAFKA_PYTHON_VENV)/bin/python ] || python3 -m venv $(KAFKA_PYTHON_VENV) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(KAFKA_PYTHON_VENV); }
	@$(KAFKA_PYTHON_VENV)/bin/python -c "import kafka; assert kafka.__version__ == '2.0.2'" 2>/dev/null || \
	  $(KAFKA_PYTHON_VENV)/bin/python -m pip install -q --disable-pip-version-check 'kafka-python==2.0.2'

clean:
	rm -rf .build
