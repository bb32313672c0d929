# gradlab: `make run` opens the lab, `make test` runs the suite. Both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_WHEEL_VERSION := 2.13.0
TORCH_WHEELS ?= /opt/wheels

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# PyTorch is optional: install the CPU build only when pip can take it from local disk quickly.
	@if ls $(TORCH_WHEELS)/torch-$(TORCH_WHEEL_VERSION)*.whl >/dev/null 2>&1; then \
	  $(BIN)/python -m pip install --quiet --find-links $(TORCH_WHEELS) torch==$(TORCH_WHEEL_VERSION) \
	  || echo "optional PyTorch install failed; torch comparison tests will be skipped"; fi
	@# compile the kernels once now, so the lab's first picture does not wait for numba
	$(BIN)/gradlab warm
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gradlab

test: $(STAMP)
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# one plain process, as a user's script runs gradlab (JAX, when installed, is the reference:
# `$(BIN)/pip install jax`; it is never a dependency)
bench: $(STAMP)
	$(BIN)/python -m benchmarks --markdown

lint: $(STAMP)
	$(BIN)/ruff check gradlab kernels scenes tests benchmarks
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
