# bharnet: `make demo` sets everything up and runs the main job; `make test` runs the unit tests.
# On a machine without an NVIDIA GPU the CPU build of PyTorch is installed (a few hundred MB
# instead of several GB); the package itself accepts any torch >= 2.2, CUDA builds included.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
TORCH_CPU ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: setup demo test test-integration test-slow test-all lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	@if $(BIN)/python -c "import torch" 2>/dev/null; then echo "torch already installed"; \
	elif command -v nvidia-smi >/dev/null 2>&1; then echo "NVIDIA GPU found: CUDA build of torch"; \
	else echo "no NVIDIA GPU: CPU build of torch"; \
	  $(BIN)/python -m pip install --quiet --no-deps "$(TORCH_CPU)" --extra-index-url $(TORCH_CPU_INDEX); fi
	@# (torch's own dependencies come from PyPI with the package below)
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $@

demo: setup
	$(BIN)/bharnet demo

# three tiers, each printing its 10 slowest tests (budgets in the README's Tests section)
test: setup
	$(BIN)/python -m pytest

test-integration: setup
	$(BIN)/python -m pytest -m "integration and not slow"

test-slow: setup
	$(BIN)/python -m pytest -m slow

test-all: test test-integration test-slow

lint: setup
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) demo-out runs .pytest_cache
