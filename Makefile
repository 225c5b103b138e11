# Two commands on a fresh machine:
#   make run    install everything, then run the OSC bridge and the demo with the bundled model
#   make test   install everything, then run every test (Python, Lua, Node, browser)
# Debian/Ubuntu system packages are installed with apt-get when missing (needs root or sudo).

PYTHON ?= python3
VENV   ?= .venv
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# PyTorch: pip's default on Linux is the CUDA build (several GB, 16 nvidia
# packages). Without an NVIDIA GPU (no nvidia-smi) the CPU build comes from
# PyTorch's CPU wheel index, added as an extra index: its 2.13.0+cpu sorts
# above PyPI's 2.13.0. If that index cannot be reached, torch comes from the
# package index pip is configured with, and the install says so.
# GPU users: `make run TORCH_INDEX=https://download.pytorch.org/whl/cu128`
# (an index for your CUDA), or `make run TORCH_INDEX=` for pip's default.
TORCH         := torch==2.13.0
TORCH_CPU_URL := https://download.pytorch.org/whl/cpu
TORCH_INDEX   ?= $(shell command -v nvidia-smi >/dev/null 2>&1 || echo $(TORCH_CPU_URL))

# what each job needs from the system: command-or-library:Debian-package
RUN_NEEDS  := libfluidsynth:libfluidsynth3
TEST_NEEDS := $(RUN_NEEDS) lua5.4:lua5.4 oscsend:liblo-tools mma:mma chromium:chromium \
              node:nodejs npm:npm

.PHONY: run test lint bench setup system-run system-test clean device mutate

run: setup system-run
	$(BIN)/midifill serve --demo

test: setup lint system-test tests/ableton/node_modules
	$(BIN)/python -m pytest

# the gate before the tests (make test, .ci/run): ruff's lint and format check and mypy, all
# configured in pyproject.toml; a few seconds for ruff, under a minute for mypy
lint: setup
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	@mkdir -p build/mypy/midifill && for p in model bridge demo; do \
	  ln -sfn ../../../$$p build/mypy/midifill/$$p; done
	$(BIN)/mypy

bench: setup
	$(BIN)/midifill bench

# Mutation testing, outside CI (about an hour on one core): mutmut changes the
# modules that hold the promises one small edit at a time and runs the fast
# tests that reach each change; then the score per module (docs/testing.md).
# One module at a time, one worker, each under MUTATE_TIMEOUT seconds; a
# module stopped by the timeout goes on where it stopped on the next run.
MUTATE_MODULES ?= model.generation.grammar model.generation.sampling model.generation.prompt \
                  model.generation.request model.generation.choose model.histograms \
                  model.network.tokenizer model.song bridge.protocol
MUTATE_TIMEOUT ?= 1800
mutate: setup
	$(BIN)/pip install --quiet -e '.[mutate]'
	@for m in $(MUTATE_MODULES); do echo "mutmut: $$m"; \
	  timeout $(MUTATE_TIMEOUT) $(BIN)/mutmut run --max-children 1 "$$m.*" >/dev/null \
	    || echo "mutmut: $$m stopped (exit $$?); run make mutate again to go on"; done
	$(BIN)/python tests/mutation_score.py

# the Max for Live device, rebuilt from daw_scripts/ableton/midifill.maxpat
device:
	$(PYTHON) daw_scripts/ableton/build_amxd.py

setup: $(STAMP)

# progress: one line per package pip collects and installs (not --quiet's
# silence for minutes); pins from constraints.txt, so every machine gets the
# versions the tests passed with
PIP_SHOW := grep --line-buffered -E '^(Collecting|Installing|Successfully|ERROR)' || true

$(STAMP): pyproject.toml constraints.txt
	@echo "midifill setup 1/3: virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@index="$(TORCH_INDEX)"; \
	if [ -n "$$index" ] && ! $(BIN)/python -c 'import sys, urllib.request; \
	    urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=20)' "$$index" 2>/dev/null; then \
	  echo "note: $$index cannot be reached; $(TORCH) comes from pip's configured index" \
	       "(on Linux, PyPI's is the CUDA build)"; index=""; fi; \
	echo "midifill setup 2/3: PyTorch for the [train] extra: pip install $${index:+--extra-index-url $$index }$(TORCH)"; \
	$(BIN)/pip install --progress-bar off -c constraints.txt $${index:+--extra-index-url $$index} $(TORCH) | { $(PIP_SHOW); }
	@echo "midifill setup 3/3: midifill with its demo, train and test extras (pip install -e '.[demo,train,test]')"
	$(BIN)/pip install --progress-bar off -c constraints.txt -e '.[demo,train,test]' | { $(PIP_SHOW); }
	touch $@

system-run:
	@$(MAKE) --no-print-directory apt NEEDS="$(RUN_NEEDS)"

system-test:
	@$(MAKE) --no-print-directory apt NEEDS="$(TEST_NEEDS)"

# install only what is missing (a command on PATH, or a shared library), so a
# ready machine needs no root; Node may come from elsewhere than Debian
apt:
	@missing=""; for need in $(NEEDS); do what=$${need%%:*}; pkg=$${need##*:}; \
	  if [ "$${what#lib}" != "$$what" ]; then ldconfig -p | grep -q "$$what" && continue; \
	  else command -v $$what >/dev/null 2>&1 && continue; fi; missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  log=$$(mktemp); echo "installing system packages:$$missing (apt-get; its output goes to $$log)"; \
	  if $(SUDO) apt-get update -qq >"$$log" 2>&1 && \
	     $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >>"$$log" 2>&1; \
	  then echo "installed:$$missing"; else tail -n 30 "$$log"; exit 1; fi; \
	fi

tests/ableton/node_modules: tests/ableton/package-lock.json
	cd tests/ableton && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/ableton/node_modules tests/_output .pytest_cache .mypy_cache .ruff_cache mutants
