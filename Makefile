# ReelGuard: `make demo` and `make test` set everything up themselves (.venv, torch first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.reelguard-installed
# The CPU wheel; an unpinned torch would pull gigabytes of CUDA packages.
TORCH  := torch==2.13.0
export REELGUARD_HOME ?= $(CURDIR)/.reelguard-home
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
PYTEST_WORKERS ?= 2

.PHONY: help install system-deps demo test bench clean

help:
	@echo "make demo   - gated, watermarked, signed generation on the embedded defaults, then its verification"
	@echo "make test   - the test suite (PostgreSQL tests run when REELGUARD_TEST_PG_URL is set)"
	@echo "make bench  - benchmarks; tables and plots land under docs/"

# System packages: pango for WeasyPrint's PDF reports, Chromium for the browser test, libfaketime
# for the time-travel test of signed clips, strace for the test that reading stays offline,
# installed only when missing (needs root or sudo).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core chromium chromium-driver faketime strace
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test,bench]"
	# The independent second C2PA reader used by the tests (pure TypeScript, from npm).
	npm install --prefix tests/c2pa_ts --no-audit --no-fund --silent
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/reelguard demo

test: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --timeout 600

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis demo-out .reelguard-home
