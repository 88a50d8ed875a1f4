# adlc: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := demo-out

.PHONY: setup demo test test-gpu lint bench bench-jobs clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,plots]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@mkdir -p $(DEMO)
	@echo "== adlc check: the examples"
	$(BIN)/adlc check examples/*.adl examples/benchmarks/*.adl
	@echo "== adlc fmt: examples/zmumu.adl in canonical form"
	$(BIN)/adlc fmt examples/zmumu.adl
	@if $(BIN)/python -c "import adlc.driver" 2>/dev/null; then \
	  echo "== adlc generate: 20000 NanoAOD-like events"; \
	  $(BIN)/adlc generate --schema nanoaod -n 20000 -o $(DEMO)/sample.root && \
	  echo "== adlc run: examples/zmumu.adl" && \
	  $(BIN)/adlc run examples/zmumu.adl -i $(DEMO)/sample.root -o $(DEMO)/zmumu --force && \
	  echo "outputs are in $(DEMO)/zmumu/"; \
	fi

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# The CuPy backend on a GPU (skipped without CuPy or a device): pip install cupy-cuda12x first.
test-gpu: $(STAMP)
	$(BIN)/python -m pytest -q tests-gpu

# Benchmarks (docs/performance.md, "Speed"): BENCH_EVENTS=1M (default), 5M or both;
# BENCH_ARGS for benchmarks/run.py (--queries q1,q7 --repeat 5 ...); BENCH_PEERS=0 skips
# making benchmarks/.venv-peers (coffea and ROOT for the peer rows).
bench: $(STAMP)
	@if [ "$(BENCH_PEERS)" != 0 ]; then PYTHON=$(PYTHON) sh benchmarks/setup_peers.sh; fi
	$(BIN)/python -m benchmarks.make_data --events $(or $(BENCH_EVENTS),1M)
	$(BIN)/python -m benchmarks.run --events $(or $(BENCH_EVENTS),1M) $(BENCH_ARGS)

# -j 2 against -j 1 (adlc beside the hand-written code as one and two processes)
bench-jobs: $(STAMP)
	$(BIN)/python -m benchmarks.make_data --events 5M
	$(BIN)/python -m benchmarks.jobs $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check adlc stdlib tests tests-gpu

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info .pytest_cache .ruff_cache
