# The two commands a newcomer needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# gunicorn on 127.0.0.1:8000 (IPVALUE_BIND, IPVALUE_WORKERS, IPVALUE_DATABASE_URL, ...);
# prints a fresh demo key of tenant 'demo', a curl line to try it, and where the docs are.
run: $(STAMP)
	$(BIN)/ipvalue serve --production --demo-key

# PYTEST_RC_FILE (optional) receives pytest's own exit code; make itself only says 0 or 2.
test: $(STAMP)
	@rc=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ -n "$(PYTEST_RC_FILE)" ]; then echo $$rc > "$(PYTEST_RC_FILE)"; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# Speed goals: each script prints ratios measured in one run (see the README's performance table).
bench: $(STAMP)
	$(BIN)/python benchmarks/montecarlo.py
	$(BIN)/python benchmarks/volatility.py
	$(BIN)/python benchmarks/portfolio.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/documents.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
